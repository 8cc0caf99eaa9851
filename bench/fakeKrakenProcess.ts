/**
 * The live benchmark's fake Kraken in a process of its own: generating and sending ~150,000
 * updates a second keeps an event loop busy, and the `/live` clients that time the updates must
 * not wait behind it (their latencies would include the fake's own backlog). Started by
 * `startFakeKrakenProcess` (this file, forked with tsx); answers `stats` with its update count and
 * the stamp of its last update frame, `freeze` by going silent (its last update stays last), and
 * `thaw` by sending again.
 */
import { fork } from "node:child_process"
import { fileURLToPath } from "node:url"
import { startFakeKraken } from "../libs/providers/src/testing/kraken/server"

export interface FakeKrakenProcess {
  readonly pid: number
  readonly restUrl: string
  readonly wsUrl: string
  readonly stats: () => Promise<FakeCounters>
  /** Stops every update (and heartbeat); resolves once the fake sends nothing more. */
  readonly freeze: () => Promise<FakeCounters>
  /** Sends updates (and heartbeats) again after `freeze`. */
  readonly thaw: () => Promise<FakeCounters>
  readonly close: () => Promise<void>
}

interface Options {
  readonly syntheticPairs: number
  readonly updateEveryMs: number
}

export interface FakeCounters {
  readonly updatesSent: number
  /** The `trades` stamp of the last update frame sent (every pair's newest forming bar carries it). */
  readonly lastStamp: number
  /** How many pairs' forming bars carry it (a pair without trades this minute has none). */
  readonly lastStampPairs: number
}

type Request = { readonly _tag: "stats" | "freeze" | "thaw"; readonly id: number }
type Message =
  | ({ readonly _tag: "stats"; readonly id: number } & FakeCounters)
  | { readonly _tag: "ready"; readonly restUrl: string; readonly wsUrl: string }

const OPTIONS = "QUASAR_BENCH_FAKE_KRAKEN"

if (process.env[OPTIONS] && process.send) {
  const options = JSON.parse(process.env[OPTIONS]) as Options
  const fake = await startFakeKraken({ ...options, batchUpdates: true, stampSentAt: true })
  const send = (m: Message) => process.send?.(m)
  process.on("message", (request: Request) => {
    if (request._tag !== "stats") fake.freeze(request._tag === "freeze")
    const { updatesSent, lastStamp, lastStampPairs } = fake.stats
    send({ _tag: "stats", id: request.id, updatesSent, lastStamp, lastStampPairs })
  })
  process.on("disconnect", () => process.exit(0))
  send({ _tag: "ready", restUrl: fake.restUrl, wsUrl: fake.wsUrl })
}

export const startFakeKrakenProcess = (options: Options): Promise<FakeKrakenProcess> =>
  new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [], {
      execArgv: ["--import", "tsx"],
      env: { ...process.env, [OPTIONS]: JSON.stringify(options) },
      stdio: ["ignore", "inherit", "inherit", "ipc"]
    })
    let nextId = 0
    const waiting = new Map<number, (counters: FakeCounters) => void>()
    const ask = (tag: Request["_tag"]) =>
      new Promise<FakeCounters>((r) => {
        const id = nextId++
        waiting.set(id, r)
        child.send({ _tag: tag, id } satisfies Request)
      })
    child.once("error", reject)
    child.once("exit", (code) => reject(new Error(`the fake Kraken exited (${code})`)))
    child.on("message", (m: Message) => {
      if (m._tag === "ready")
        resolve({
          pid: child.pid ?? 0,
          restUrl: m.restUrl,
          wsUrl: m.wsUrl,
          stats: () => ask("stats"),
          freeze: () => ask("freeze"),
          thaw: () => ask("thaw"),
          close: () =>
            new Promise((r) => {
              child.once("exit", () => r())
              child.kill("SIGTERM")
            })
        })
      else {
        waiting.get(m.id)?.({
          updatesSent: m.updatesSent,
          lastStamp: m.lastStamp,
          lastStampPairs: m.lastStampPairs
        })
        waiting.delete(m.id)
      }
    })
  })
