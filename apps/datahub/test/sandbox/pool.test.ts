import { readFileSync } from "node:fs"
import { expect, layer } from "@effect/vitest"
import { ProviderName } from "@quasar/domain"
import { Chunk, Effect, Option, Schedule, Stream } from "effect"
import { ProviderPool } from "../../src/sandbox/ProviderPool"
import { MemoryCatalog } from "../../src/testing/MemoryCatalog"
import { hostile, networkJs, validJs } from "./fixtures/modules"
import { syntheticSource } from "./fixtures/synthetic"
import { LocalServers } from "./localServers"
import { client, expectHealthy, testAppWithServers, validate } from "./support"

const MINUTE = 60_000

/** Validates `source` through the API, then stores it as the given version of `name`. */
const store = (name: string, source: string, version: number, status: "active" | "valid") =>
  Effect.gen(function* () {
    const { report, manifest } = yield* validate(name, source)
    expect(report.issues).toEqual([])
    const catalog = yield* MemoryCatalog
    yield* catalog.putCode({ name, version, status, manifest, source })
  })

/** Settings as the Registry hands them over: its secrets already opened. */
const settings = (
  name: string,
  values: Record<string, string | number | boolean>,
  secrets: Record<string, string> = {}
) => Effect.flatMap(MemoryCatalog, (catalog) => catalog.putSettings(name, { ...values, ...secrets }))

const listAssets = (name: string) =>
  Effect.flatMap(client, (c) => c.sandbox.listAssets({ path: { name: ProviderName.make(name) } }))

const pidOf = (name: string) =>
  Effect.map(ProviderPool, (pool) => pool.sandboxes).pipe(
    Effect.flatten,
    Effect.map((all) => all.find((s) => s.name === name))
  )

layer(testAppWithServers, { timeout: 90_000, excludeTestServices: true })("provider pool", (it) => {
  it.effect("lists the active version's assets with its settings and the secrets the Registry opened", () =>
    Effect.gen(function* () {
      yield* store("fixture-js", validJs("fixture-js"), 1, "active")
      yield* settings("fixture-js", { region: "us" }, { apiKey: "s3cret" })
      const listing = yield* listAssets("fixture-js")
      expect(listing).toEqual({ assets: [{ symbol: "AAA", name: "us, key ok" }], rejected: 1 })
    })
  )

  it.effect("gives provider code fetch and WebSocket access through its context", () =>
    Effect.gen(function* () {
      const { httpUrl, wsUrl } = yield* LocalServers
      yield* store("fixture-net", networkJs, 1, "active")
      yield* settings("fixture-net", { httpUrl, wsUrl })
      const listing = yield* listAssets("fixture-net")
      expect(listing.assets.map((a) => a.symbol)).toEqual(["HTTP-OK", "WS-OK"])
    })
  )

  it.effect("answers 404 for an unknown provider and for one without an active version", () =>
    Effect.gen(function* () {
      const unknown = yield* Effect.flip(listAssets("nobody"))
      expect(unknown).toMatchObject({ _tag: "NotFound", message: expect.stringContaining("upload it") })
      yield* store("fixture-inactive", validJs("fixture-inactive"), 1, "valid")
      const inactive = yield* Effect.flip(listAssets("fixture-inactive"))
      expect(inactive).toMatchObject({
        _tag: "NotFound",
        message: expect.stringContaining("no active version")
      })
    })
  )

  it.effect("a listAssets that never returns is killed and answered with 503, settings checked first", () =>
    Effect.gen(function* () {
      yield* store("hostile-loop", hostile.loopInListAssets, 1, "active")
      const noSettings = yield* Effect.flip(listAssets("hostile-loop"))
      expect(noSettings).toMatchObject({
        _tag: "ServiceUnavailable",
        message: expect.stringContaining("invalid settings: apiKey is required")
      })
      yield* settings("hostile-loop", {}, { apiKey: "s3cret" })
      const looped = yield* Effect.flip(listAssets("hostile-loop"))
      expect(looped._tag).toBe("ServiceUnavailable")
      expect(looped.message).toContain("stopped: call listAssets did not answer within 2 s")
      yield* expectHealthy
    })
  )

  it.effect("serves history as validated pages and a live feed from the synthetic provider", () =>
    Effect.gen(function* () {
      yield* store("synthetic", syntheticSource, 1, "active")
      yield* settings("synthetic", { symbols: "AAA/USD,BBB", seed: 7 })
      expect((yield* listAssets("synthetic")).assets.map((a) => a.symbol)).toEqual(["AAA/USD", "BBB"])
      const pool = yield* ProviderPool
      const to = Math.floor(Date.now() / MINUTE) * MINUTE
      const from = to - 2_500 * MINUTE
      const pages = Chunk.toArray(
        yield* Stream.runCollect(pool.history("synthetic", { symbol: "AAA/USD", timeframe: "1m", from, to }))
      )
      expect(pages.length).toBe(3)
      const bars = pages.flatMap((p) => p.bars)
      expect(pages.flatMap((p) => p.rejected)).toEqual([])
      expect(bars.length).toBe(2_500)
      expect(bars[0]?.ts).toBe(from)
      expect(bars.every((b, i) => i === 0 || b.ts === (bars[i - 1]?.ts ?? 0) + MINUTE)).toBe(true)
      const events = yield* Stream.runCollect(
        pool.live("synthetic", { symbols: ["AAA/USD", "ZZZ"], timeframe: "1m" }).pipe(Stream.take(4))
      )
      expect(Chunk.toArray(events).map((e) => e.type)).toEqual(["subscribed", "rejected", "bar", "heartbeat"])
    })
  )

  it.effect(
    "a child killed mid-stream fails the call as retryable; a restarted sandbox serves the next",
    () =>
      Effect.gen(function* () {
        const pool = yield* ProviderPool
        const to = Math.floor(Date.now() / MINUTE) * MINUTE
        // Sixty pages: far more than the child can send while the test finds its pid; a child
        // with only a few may send them all and end the call before the kill.
        const pull = yield* Stream.toPull(
          pool.history("synthetic", { symbol: "BBB", timeframe: "1m", from: to - 60_000 * MINUTE, to })
        )
        expect(Chunk.size(yield* pull)).toBe(1)
        const before = yield* pidOf("synthetic")
        process.kill(before?.pid ?? 0, "SIGKILL")
        // Pages the child sent before it died may still be read; then the pull fails.
        const failure = yield* Effect.flip(Effect.forever(pull))
        expect(Option.getOrThrow(failure)).toMatchObject({
          _tag: "ProviderRetryableError",
          message: expect.stringContaining("stopped: was killed by SIGKILL")
        })
        expect((yield* listAssets("synthetic")).assets).toHaveLength(2)
        const after = yield* pidOf("synthetic")
        // Under load an earlier sandbox may have missed a heartbeat and crashed already (and a
        // sandbox that ran a minute starts its count afresh): this crash is counted, and is the last.
        expect(after?.lastReason).toBe("was killed by SIGKILL")
        expect(after?.crashes).toBeGreaterThanOrEqual(1)
        expect(after?.crashes).toBeLessThanOrEqual((before?.crashes ?? 0) + 1)
        expect(after?.pid).not.toBe(before?.pid)
      }).pipe(Effect.scoped)
  )

  it.effect("a terminal's Ctrl-C does not reach a sandbox: own process group, and SIGINT ignored", () =>
    Effect.gen(function* () {
      yield* listAssets("synthetic")
      const before = yield* pidOf("synthetic")
      const pid = before?.pid ?? 0
      // /proc/<pid>/stat: "pid (comm) state ppid pgrp …"; comm may hold spaces, so split after ")".
      const groupOf = (p: number | "self") =>
        Number(readFileSync(`/proc/${p}/stat`, "utf8").split(") ")[1]?.split(" ")[2])
      expect(groupOf(pid)).toBe(pid)
      expect(groupOf(pid)).not.toBe(groupOf("self"))
      process.kill(pid, "SIGINT")
      // A round trip through the child after the signal: it has handled it by then.
      expect((yield* listAssets("synthetic")).assets).toHaveLength(2)
      expect(yield* pidOf("synthetic")).toMatchObject({ pid, crashes: before?.crashes })
    })
  )

  it.effect("activating another version retires the running one", () =>
    Effect.gen(function* () {
      const old = yield* pidOf("synthetic")
      // Storing v2 as active makes v1 valid, and counts as a change the catalogue hears of.
      yield* store("synthetic", `${syntheticSource}\n// v2\n`, 2, "active")
      // The pool reconciles on the change; the retired sandbox is gone shortly after.
      yield* pidOf("synthetic").pipe(
        Effect.repeat({ until: (s) => s === undefined, schedule: Schedule.spaced("200 millis") }),
        Effect.timeout("5 seconds")
      )
      // The pool forgets the slot before the kill has reaped the child: wait for the process too.
      const alive = (pid: number) => {
        try {
          process.kill(pid, 0)
          return true
        } catch {
          return false
        }
      }
      const gone = yield* Effect.sync(() => !alive(old?.pid ?? 0)).pipe(
        Effect.filterOrFail((dead) => dead),
        Effect.retry(Schedule.spaced("100 millis").pipe(Schedule.upTo("5 seconds"))),
        Effect.orElseSucceed(() => false)
      )
      expect(gone).toBe(true)
      yield* listAssets("synthetic")
      expect(yield* pidOf("synthetic")).toMatchObject({ version: 2 })
      yield* expectHealthy
    })
  )

  it.effect(
    "a provider cannot find another provider's secret anywhere it can look",
    () =>
      Effect.gen(function* () {
        const secret = "victim-s3cret-4242"
        yield* store("victim", validJs("victim"), 1, "active")
        yield* settings("victim", { region: "eu" }, { apiKey: secret })
        // Warm the victim's sandbox, so that its secret is in a live process while the thief looks.
        yield* listAssets("victim")
        // The thief knows what it looks for and reports every place it found it, or why it could not look.
        const thief = validJs(
          "thief",
          `async (ctx) => {
          const want = ${JSON.stringify(secret)}
          const seen = []
          const look = (where, read) => {
            try {
              const text = typeof read === "function" ? String(read()) : String(read)
              if (text.includes(want)) seen.push(where)
            } catch (e) {}
          }
          look("ctx.settings", () => JSON.stringify(ctx.settings))
          look("process.env", () => JSON.stringify(process.env))
          look("globalThis", () => Object.getOwnPropertyNames(globalThis).map((k) => { try { return String(globalThis[k]) } catch { return "" } }).join(" "))
          const fs = process.getBuiltinModule("node:fs")
          for (const path of ["/proc/self/environ", "/proc/1/environ", "/proc/" + process.ppid + "/environ", "/proc/" + process.ppid + "/cmdline", "..", "/tmp"])
            look(path, () => { try { return fs.readFileSync(path, "latin1") } catch { return fs.readdirSync(path).join(" ") } })
          for (let pid = 1; pid < 200; pid++) look("/proc/" + pid + "/environ", () => fs.readFileSync("/proc/" + pid + "/environ", "latin1"))
          const other = await ctx.fetch("http://127.0.0.1:1/internal/sandbox/victim/assets").then((r) => r.text(), (e) => String(e))
          look("ctx.fetch", other)
          return [{ symbol: "LOOKED", name: seen.length === 0 ? "nowhere" : seen.join(",") }, ...Object.keys(ctx.settings).sort().map((k) => ({ symbol: "SETTING-" + k.toUpperCase() }))]
        }`
        )
        yield* store("thief", thief, 1, "active")
        yield* settings("thief", { region: "us" }, { apiKey: "thief-own-key" })
        const listing = yield* listAssets("thief")
        expect(listing.assets).toEqual([
          { symbol: "LOOKED", name: "nowhere" },
          // Its own settings only, the secret included.
          { symbol: "SETTING-APIKEY" },
          { symbol: "SETTING-REGION" }
        ])
      }),
    60_000
  )
})
