/**
 * No bar is lost or altered when the processes around a backfill fail: Registry and DataHub run
 * as their own processes on a fresh database while the built-in synthetic provider backfills
 * two months of 1m bars, and in the middle of it DataHub is SIGKILLed and started again, every
 * database backend but the test's own is terminated, and the Registry is restarted. Once the
 * series is current, every stored bar is compared with the provider's deterministic truth.
 */
import { execFileSync } from "node:child_process"
import { ProviderName, Timeframe } from "@quasar/domain"
import { DateTime, Effect } from "effect"
import { afterEach, expect, it } from "vitest"
import { barsBetween } from "../libs/providers/src/synthetic/randomWalk"
import { apiClients } from "./e2e/support/api"
import { useFreshDatabase } from "./support/freshDatabase"
import {
  killLeftovers,
  type Spawned,
  servicePair,
  spawnTsx,
  track,
  waitFor200,
  within
} from "./support/processes"

afterEach(killLeftovers)

const MINUTE = 60_000
const DAYS = 60
/** The synthetic provider's defaults: what the built-in serves without any settings. */
const SYMBOL = "SYN/USD"
const SEED = 42

const db = useFreshDatabase("quasar-crash-")
const { dataDir } = db
/** The services the test expects running (an unexpected exit fails `until` at once), and their output. */
let watched: Array<Spawned> = []
let debugLogs = () => ""

/** Children of `pid` (DataHub's sandbox), so a SIGKILLed parent leaves nothing running after the test. */
const trackChildren = (pid: number) => {
  const out = (() => {
    try {
      return execFileSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" })
    } catch {
      return ""
    }
  })()
  for (const child of out.split("\n").map((s) => Number(s.trim()))) if (child > 0) track(child)
}

interface Progress {
  readonly status: string
  readonly count: number
}

const progress = async (): Promise<Progress> => {
  const { rows } = await db.admin.query<Progress>(
    `SELECT s.status, (SELECT count(*)::int FROM datahub.historical_data h
       WHERE h.provider = s.provider AND h.symbol = s.symbol AND h.timeframe = s.timeframe) AS count
     FROM datahub.provider_subscription s WHERE s.provider = 'synthetic' AND s.symbol = $1 AND s.timeframe = '1m'`,
    [SYMBOL]
  )
  return rows[0] ?? { status: "none", count: 0 }
}

/** Polls the database until `check` holds; fails with `what` and the last state after `ms`. */
const until = async (what: string, check: (p: Progress) => boolean, ms: number): Promise<Progress> => {
  const started = Date.now()
  let last: Progress = { status: "none", count: 0 }
  while (Date.now() - started < ms) {
    const dead = watched.find((x) => x.child.exitCode !== null || x.child.signalCode !== null)
    if (dead) throw new Error(`${what}: process ${dead.pid} exited by itself\n${debugLogs()}`)
    last = await progress()
    if (check(last)) return last
    await new Promise((r) => setTimeout(r, 50))
  }
  const { rows: runs } = await db.admin.query(
    "SELECT id, kind, status, rows_written, error, started_at, finished_at FROM datahub.collection_runs ORDER BY id"
  )
  throw new Error(
    `${what}: not within ${ms} ms (last: ${JSON.stringify(last)})\nruns: ${JSON.stringify(runs, null, 1)}\n${debugLogs()}`
  )
}

const stopGracefully = async (service: Spawned) => {
  service.child.kill("SIGTERM")
  return within(15_000, "stop after SIGTERM", service.exited)
}

interface StoredBar {
  readonly ts: number
  readonly open: number
  readonly high: number
  readonly low: number
  readonly close: number
  readonly volume: number
  readonly vwap: number | null
  readonly trades: number | null
}

interface StoredRun {
  readonly id: number
  readonly kind: string
  readonly status: string
  readonly from: number
  readonly to: number
  readonly rows: number
  readonly inRange: number
  readonly startedAt: number
  readonly error: string | null
}

it("a backfill through kill -9 of DataHub, terminated backends and a Registry restart stores every bar once and right", async () => {
  const startedAt = Date.now()
  const { registryUrl, datahubUrl, adminToken, env, registryEnv } = await servicePair(db.url, dataDir)
  const startDataHub = async () => {
    const datahub = spawnTsx("apps/datahub/src/main.ts", env)
    await waitFor200(`${datahubUrl}/health`, 90_000, datahub)
    return datahub
  }
  const startRegistry = async () => {
    const registry = spawnTsx("apps/registry/src/main.ts", registryEnv)
    await waitFor200(`${registryUrl}/health`, 90_000, registry)
    return registry
  }
  let [registry, datahub] = await Promise.all([startRegistry(), startDataHub()])
  const all: Array<Spawned> = [registry, datahub]
  watched = [registry, datahub]
  debugLogs = () =>
    all.map((x) => `--- ${x.pid}\n${x.stdout().slice(-3000)}${x.stderr().slice(-3000)}`).join("\n")
  const api = apiClients(registryUrl, datahubUrl, adminToken)
  await api.builtinsActive(["synthetic"])

  const now = Date.now()
  const from = Timeframe.barOpen("1m", now - DAYS * 1_440 * MINUTE)
  const total = (Timeframe.barOpen("1m", now) - from) / MINUTE
  const [sub] = await api.run(
    Effect.flatMap(api.datahub, (c) =>
      c.subscriptions.create({
        payload: {
          provider: ProviderName.make("synthetic"),
          symbol: SYMBOL,
          timeframes: ["1m"],
          mode: "history",
          backfillFrom: DateTime.unsafeMake(from)
        }
      })
    )
  )
  expect(sub?.state.status).toBe("backfilling")

  // (1) kill -9 DataHub mid-backfill, then start it again on the same database and port.
  const atKill = await until("DataHub writes a few pages", (p) => p.count >= total * 0.1, 60_000)
  trackChildren(datahub.pid)
  const { rows: killedAt } = await db.admin.query<{ at: number }>(
    `SELECT (extract(epoch FROM now()) * 1000)::float8 AS at`
  )
  watched = [registry]
  datahub.child.kill("SIGKILL")
  expect((await datahub.exited).signal).toBe("SIGKILL")
  datahub = await startDataHub()
  all.push(datahub)
  watched = [registry, datahub]

  // (2) Every backend but the test's own is terminated while the new DataHub writes, twice.
  const terminated: Array<number> = []
  const atTerminate: Array<Progress> = []
  for (const share of [0.3, 0.45]) {
    atTerminate.push(
      await until(`the backfill passes ${share * 100} %`, (p) => p.count >= total * share, 60_000)
    )
    const { rowCount } = await db.admin.query<{ pid: number }>(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE datname = current_database() AND pid <> pg_backend_pid()`
    )
    terminated.push(rowCount ?? 0)
  }

  // (3) The Registry stops (SIGTERM) and starts again while collection runs.
  const atRegistryStop = await until("the backfill passes 60 %", (p) => p.count >= total * 0.6, 60_000)
  watched = [datahub]
  expect((await stopGracefully(registry)).code).toBe(0)
  registry = await startRegistry()
  all.push(registry)
  watched = [registry, datahub]

  // Each disruption hit a running backfill, not a finished one.
  expect([atKill, ...atTerminate].map((p) => p.status)).toEqual(["backfilling", "backfilling", "backfilling"])
  expect(atRegistryStop.status).toBe("backfilling")
  expect(atRegistryStop.count).toBeLessThan(total)
  expect(terminated.every((n) => n > 0)).toBe(true)

  // Until the derived client reports the series current.
  const deadline = Date.now() + 90_000
  for (;;) {
    const list = await api.run(Effect.flatMap(api.datahub, (c) => c.subscriptions.list({ urlParams: {} })))
    const state = list.find((s) => s.id === sub!.id)?.state
    if (state?.status === "current") break
    if (Date.now() > deadline)
      throw new Error(`not current within 90 s: ${JSON.stringify(state)}\n${debugLogs()}`)
    await new Promise((r) => setTimeout(r, 200))
  }
  // Both stop, so nothing is written while the table is compared.
  trackChildren(datahub.pid)
  await Promise.all([stopGracefully(datahub), stopGracefully(registry)])

  const { rows: subs } = await db.admin.query<{ collectedUntil: number }>(
    `SELECT (extract(epoch FROM collected_until) * 1000)::float8 AS "collectedUntil"
     FROM datahub.provider_subscription WHERE id = $1`,
    [sub!.id]
  )
  const collectedUntil = subs[0]!.collectedUntil
  expect(collectedUntil).toBeGreaterThanOrEqual(Timeframe.barOpen("1m", now))
  const { rows: stored } = await db.admin.query<StoredBar>(
    `SELECT (extract(epoch FROM ts) * 1000)::float8 AS ts, open, high, low, close, volume, vwap, trades
     FROM datahub.historical_data WHERE provider = 'synthetic' AND symbol = $1 AND timeframe = '1m' ORDER BY ts`,
    [SYMBOL]
  )
  const truth = barsBetween({ seed: SEED }, SYMBOL, "1m", from, collectedUntil)
  const expected = new Map(truth.map((b) => [b.ts, b]))
  const storedTs = new Set(stored.map((b) => b.ts))
  const missing = truth.filter((b) => !storedTs.has(b.ts)).map((b) => b.ts)
  const extra = stored.filter((b) => !expected.has(b.ts)).map((b) => b.ts)
  const different = stored.filter((b) => {
    const t = expected.get(b.ts)
    return (
      t !== undefined &&
      (b.open !== t.open ||
        b.high !== t.high ||
        b.low !== t.low ||
        b.close !== t.close ||
        b.volume !== t.volume ||
        b.vwap !== (t.vwap ?? null) ||
        b.trades !== (t.trades ?? null))
    )
  })
  expect({
    missing: missing.slice(0, 5),
    extra: extra.slice(0, 5),
    different: different.slice(0, 3)
  }).toEqual({
    missing: [],
    extra: [],
    different: []
  })
  expect(stored).toHaveLength(truth.length)
  expect(truth.length).toBeGreaterThanOrEqual(total)

  // The run log: no successful run claims rows the table lacks, and together they claim no more
  // than is stored (a page written twice across the kill is not counted twice).
  const { rows: runs } = await db.admin.query<StoredRun>(
    `SELECT r.id::int, r.kind, r.status, (extract(epoch FROM r.range_from) * 1000)::float8 AS "from",
            (extract(epoch FROM r.range_to) * 1000)::float8 AS "to", r.rows_written AS rows, r.error,
            (extract(epoch FROM r.started_at) * 1000)::float8 AS "startedAt",
            (SELECT count(*)::int FROM datahub.historical_data h
              WHERE h.provider = r.provider AND h.symbol = r.symbol AND h.timeframe = r.timeframe
                AND h.ts >= r.range_from AND h.ts < r.range_to) AS "inRange"
     FROM datahub.collection_runs r WHERE r.subscription_id = $1 ORDER BY r.id`,
    [sub!.id]
  )
  const ok = runs.filter((r) => r.status === "ok")
  expect(ok.length).toBeGreaterThan(0)
  expect(ok.filter((r) => r.rows > r.inRange)).toEqual([])
  expect(ok.reduce((sum, r) => sum + r.rows, 0)).toBeLessThanOrEqual(stored.length)
  // Only the SIGKILLed DataHub leaves runs open (a later DataHub closes them once their heartbeat
  // is stale); every run after it ended, one way or the other.
  expect(runs.filter((r) => r.status === "running" && r.startedAt > killedAt[0]!.at)).toEqual([])
  console.info(
    `collection-crash: ${stored.length} bars checked one by one, ${runs.length} runs ` +
      `(${runs.map((r) => `${r.status}:${r.rows}:${r.error ?? ""}`).join(", ")}), backends terminated ${terminated.join("+")}, ` +
      `${Math.round((Date.now() - startedAt) / 1000)} s`
  )
}, 180_000)
