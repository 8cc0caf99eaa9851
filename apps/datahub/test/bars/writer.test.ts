import { expect, layer } from "@effect/vitest"
import { DatabaseUrl, SchemaState } from "@quasar/server"
import { TcpProxy, TestDatabase } from "@quasar/server/testing"
import { Context, Effect, Exit, Fiber, Layer, Option, Redacted, Schedule, Scope } from "effect"
import Pg from "pg"
import { BarWriter } from "../../src/store/BarWriter"
import { bars, countOf, direct, MINUTE, T0, writerLayer, writerServices } from "./support"

/** Polls `read` until `test` holds (a state the test waits for, instead of sleeping). */
const until = <A, E, R>(what: string, read: Effect.Effect<A, E, R>, test: (a: A) => boolean) =>
  read.pipe(
    Effect.filterOrFail(test, () => new Error(`not yet: ${what}`)),
    Effect.retry(Schedule.spaced("20 millis")),
    Effect.timeoutFail({
      duration: "20 seconds",
      onTimeout: () => new Error(`timed out waiting until ${what}`)
    })
  )

const ready = Effect.flatMap(SchemaState.SchemaState, (s) => s.ready)

layer(writerLayer(), { timeout: 120_000, excludeTestServices: true })("BarWriter", (it) => {
  it.effect("writing the same rows twice stores them once; a changed bar is updated", () =>
    Effect.gen(function* () {
      const writer = yield* BarWriter
      const rows = bars("IDEM", 100)
      yield* writer.write("historical", rows)
      yield* writer.write("historical", rows)
      expect(yield* countOf("IDEM")).toBe(100)
      yield* writer.write("historical", [{ ...rows[10]!, close: 555, high: 600, vwap: null, trades: null }])
      const [bar] = yield* direct(
        "SELECT close, high, vwap, trades FROM datahub.historical_data WHERE symbol = 'IDEM' AND ts = $1",
        [new Date(rows[10]!.ts)]
      )
      expect(bar).toEqual({ close: 555, high: 600, vwap: null, trades: null })
      expect(yield* countOf("IDEM")).toBe(100)
    })
  )

  it.effect("updates bars stored before it started (an append that meets them becomes an upsert)", () =>
    Effect.gen(function* () {
      const writer = yield* BarWriter
      const rows = bars("BEFORE", 20)
      // Stored by someone else: this writer has never seen the series, so it tries a plain append.
      yield* direct(
        `INSERT INTO datahub.historical_data (provider, symbol, timeframe, ts, open, high, low, close, volume)
         SELECT 'test', 'BEFORE', '1m', to_timestamp(ms / 1000.0), 1, 1, 1, 1, 1 FROM unnest($1::int8[]) AS ms`,
        [rows.slice(5, 10).map((r) => r.ts)]
      )
      const before = (yield* writer.stats).appendConflicts
      yield* writer.write("historical", rows)
      expect((yield* writer.stats).appendConflicts).toBe(before + 1)
      expect(yield* countOf("BEFORE")).toBe(20)
      expect(
        yield* direct(
          "SELECT open FROM datahub.historical_data WHERE symbol = 'BEFORE' ORDER BY ts LIMIT 1 OFFSET 7"
        )
      ).toEqual([{ open: rows[7]!.open }])
      // Newer bars of a series it now knows go out as a plain append again.
      yield* writer.write("historical", bars("BEFORE", 5, { start: rows.at(-1)!.ts + MINUTE }))
      expect((yield* writer.stats).appendConflicts).toBe(before + 1)
      expect(yield* countOf("BEFORE")).toBe(25)
    })
  )

  it.effect("stores 50,000 rows and counts them", () =>
    Effect.gen(function* () {
      const writer = yield* BarWriter
      const before = yield* writer.stats
      const rows = bars("MANY", 50_000)
      // As collectors do: several series paged concurrently.
      yield* Effect.forEach(
        Array.from({ length: 50 }, (_, i) => rows.slice(i * 1_000, (i + 1) * 1_000)),
        (page) => writer.write("historical", page),
        { concurrency: 8, discard: true }
      )
      expect(yield* countOf("MANY")).toBe(50_000)
      const after = yield* writer.stats
      expect(after.rowsWritten - before.rowsWritten).toBe(50_000)
      expect(after.batches).toBeGreaterThan(before.batches + 9)
      expect(after.lastBatchRows).toBeLessThanOrEqual(10_000)
      expect(after.queuedRows).toBe(0)
      expect(after.inFlightRows).toBe(0)
      const [sums] = yield* direct<{ v: number; first: Date; last: Date }>(
        "SELECT sum(volume)::float8 AS v, min(ts) AS first, max(ts) AS last FROM datahub.historical_data WHERE symbol = 'MANY'"
      )
      expect(sums?.v).toBe(rows.reduce((s, r) => s + r.volume, 0))
      expect(sums?.first.getTime()).toBe(T0)
      expect(sums?.last.getTime()).toBe(rows.at(-1)!.ts)
    })
  )

  it.effect("keeps the last of duplicate keys within one write and across writes of one batch", () =>
    Effect.gen(function* () {
      const writer = yield* BarWriter
      const [a, b] = bars("DUP", 2)
      yield* writer.write("historical", [a!, b!, { ...a!, close: 1 }, { ...a!, close: 2 }])
      // Concurrent writes of the same key land in one batch: the one queued last wins.
      yield* Effect.all(
        [
          writer.write("historical", [{ ...b!, close: 3 }]),
          writer.write("historical", [{ ...b!, close: 4 }])
        ],
        { concurrency: "unbounded" }
      )
      expect(
        yield* direct("SELECT close FROM datahub.historical_data WHERE symbol = 'DUP' ORDER BY ts")
      ).toEqual([{ close: 2 }, { close: 4 }])
    })
  )

  it.effect("stores open times exactly to the millisecond", () =>
    Effect.gen(function* () {
      const writer = yield* BarWriter
      const times = [
        0,
        1,
        999,
        1_000_000_000_001,
        T0 + 59_999,
        Date.UTC(2099, 11, 31, 23, 59, 59, 999),
        -86_400_001
      ]
      yield* writer.write(
        "historical",
        times.map((ts) => ({ ...bars("MS", 1)[0]!, ts }))
      )
      const stored = yield* direct<{ ms: string }>(
        "SELECT (extract(epoch FROM ts) * 1000)::int8::text AS ms FROM datahub.historical_data WHERE symbol = 'MS' ORDER BY ts"
      )
      expect(stored.map((r) => Number(r.ms))).toEqual([...times].sort((a, b) => a - b))
    })
  )

  it.effect("appends new bars through binary COPY with every value exact (fractions, NULLs, pre-2000)", () =>
    Effect.gen(function* () {
      const writer = yield* BarWriter
      const before = (yield* writer.stats).copiedRows
      const rows = [
        { ...bars("COPY", 1, { start: Date.UTC(1999, 11, 31, 23, 59) })[0]!, vwap: null, trades: null },
        { ...bars("COPY", 1, { start: Date.UTC(2000, 0, 1) })[0]!, open: 0.1 + 0.2, trades: 2_147_483_647 },
        { ...bars("COPY", 1, { start: T0 })[0]!, close: 1e-300, volume: 123_456_789.123456, vwap: -0 }
      ]
      yield* writer.write("historical", rows)
      expect((yield* writer.stats).copiedRows).toBe(before + 3)
      const stored = yield* direct<Record<string, string | null>>(
        `SELECT (extract(epoch FROM ts) * 1000)::int8::text AS ts, open::text, high::text, low::text,
                close::text, volume::text, vwap::text, trades::text
         FROM datahub.historical_data WHERE symbol = 'COPY' ORDER BY historical_data.ts`
      )
      const text = (x: number | null | undefined) => (x === null || x === undefined ? null : String(x))
      expect(stored).toEqual(
        rows.map((r) => ({
          ts: String(r.ts),
          open: text(r.open),
          high: text(r.high),
          low: text(r.low),
          close: text(r.close),
          volume: text(r.volume),
          vwap: r.vwap === 0 ? "-0" : text(r.vwap),
          trades: text(r.trades)
        }))
      )
    })
  )

  it.effect("refuses non-finite values before they reach the database", () =>
    Effect.gen(function* () {
      const writer = yield* BarWriter
      const [bar] = bars("NAN", 1)
      for (const bad of [
        { ...bar!, close: Number.NaN },
        { ...bar!, volume: Infinity },
        { ...bar!, ts: 1.5 }
      ]) {
        const result = yield* Effect.either(writer.write("historical", [bar!, bad]))
        expect(result._tag).toBe("Left")
        if (result._tag === "Left")
          expect(result.left.message).toMatch(/not (a finite number|an epoch-millisecond)/)
      }
      expect(yield* countOf("NAN")).toBe(0)
    })
  )

  it.effect("a write across many series (live: one bar per series) is stored and updated exactly", () =>
    Effect.gen(function* () {
      const writer = yield* BarWriter
      // More series than the statement indexes (names go per row then), odd names included.
      const names = Array.from({ length: 300 }, (_, i) => `MANY${i}${i % 50 === 0 ? '"q\\b,{}' : ""}`)
      const first = names.flatMap((symbol) => bars(symbol, 1, { provider: "many" }))
      const second = first.map((r, i) => ({
        ...r,
        close: 1_000 + i,
        vwap: i % 2 === 0 ? null : 7.25,
        trades: i
      }))
      for (const target of ["live", "historical"] as const) {
        yield* writer.write(target, first)
        yield* writer.write(target, second)
        const stored = yield* direct<{ symbol: string; close: number; vwap: number | null; trades: number }>(
          `SELECT symbol, close, vwap, trades FROM datahub.${target}_data WHERE provider = 'many' ORDER BY trades`
        )
        expect(stored).toEqual(
          second.map((r) => ({ symbol: r.symbol, close: r.close, vwap: r.vwap, trades: r.trades }))
        )
      }
    })
  )

  it.effect("writes forming bars to live_data and closed bars to historical_data", () =>
    Effect.gen(function* () {
      const writer = yield* BarWriter
      yield* Effect.all(
        [writer.write("live", bars("LIVE", 3)), writer.write("historical", bars("LIVE", 2))],
        {
          concurrency: "unbounded"
        }
      )
      expect(yield* countOf("LIVE", "datahub.live_data")).toBe(3)
      expect(yield* countOf("LIVE", "datahub.historical_data")).toBe(2)
    })
  )

  it.effect("write returns only once its rows are committed (seen from another connection)", () =>
    Effect.gen(function* () {
      const writer = yield* BarWriter
      const { url } = yield* DatabaseUrl
      const locker = new Pg.Client({ connectionString: Redacted.value(url) })
      yield* Effect.promise(() => locker.connect())
      // SHARE mode lets others read but blocks every insert until the lock goes.
      yield* Effect.promise(() => locker.query("BEGIN; LOCK TABLE datahub.historical_data IN SHARE MODE"))
      const fiber = yield* Effect.fork(writer.write("historical", bars("COMMIT", 10)))
      // The writer's insert is queued behind the lock: PostgreSQL shows it waiting.
      yield* until(
        "the insert waits for the lock",
        direct<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted AND relation = 'datahub.historical_data'::regclass"
        ),
        ([row]) => (row?.n ?? 0) > 0
      )
      expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
      expect(yield* countOf("COMMIT")).toBe(0)
      yield* Effect.promise(() => locker.query("COMMIT").then(() => locker.end()))
      yield* Fiber.join(fiber)
      expect(yield* countOf("COMMIT")).toBe(10)
    })
  )

  it.effect("fails only the write the database refuses; the rest of its batch is stored", () =>
    Effect.gen(function* () {
      const writer = yield* BarWriter
      const [good, bad, other] = [bars("OK1", 5), bars("BAD", 1), bars("OK2", 5)]
      const results = yield* Effect.all(
        [
          writer.write("historical", good!),
          // trades is an integer column: 1.5 is a data error no retry can fix.
          writer.write("historical", [{ ...bad[0]!, trades: 1.5 }]),
          writer.write("historical", other!)
        ].map(Effect.either),
        { concurrency: "unbounded" }
      )
      expect(results.map((r) => r._tag)).toEqual(["Right", "Left", "Right"])
      const rejected = results[1]
      if (rejected?._tag === "Left") {
        expect(rejected.left._tag).toBe("BarsRejected")
        expect(rejected.left.message).toMatch(/refused 1 bars for datahub\.historical_data: .*22P02/)
      }
      expect([yield* countOf("OK1"), yield* countOf("BAD"), yield* countOf("OK2")]).toEqual([5, 0, 5])
      expect((yield* writer.stats).rejectedRows).toBeGreaterThanOrEqual(1)
    })
  )
})

/** The writer's pool reaches a fresh database through a proxy the test cuts and restores. */
class Proxied extends Context.Tag("test/Proxied")<Proxied, { readonly proxy: TcpProxy.TcpProxy }>() {}

layer(
  Layer.unwrapScoped(
    Effect.gen(function* () {
      const direct = yield* TestDatabase.fresh
      const { proxy, url: viaProxy } = yield* TcpProxy.inFrontOf(direct)
      // The service's pool goes through the proxy; `DatabaseUrl` (for `direct`) does not.
      return Layer.mergeAll(
        writerServices({ retryDelay: "50 millis", maxRetryDelay: "300 millis" }).pipe(
          Layer.provide(DatabaseUrl.layer(Redacted.make(viaProxy)))
        ),
        DatabaseUrl.layer(Redacted.make(direct)),
        Layer.succeed(Proxied, { proxy })
      )
    })
  ),
  { timeout: 120_000, excludeTestServices: true }
)("BarWriter when the database goes away", (it) => {
  it.effect("pauses writes while the database is unreachable and stores everything once it returns", () =>
    Effect.gen(function* () {
      const writer = yield* BarWriter
      const { proxy } = yield* Proxied
      yield* ready
      const rows = bars("OUTAGE", 3_000)
      yield* writer.write("historical", rows.slice(0, 1_000))
      yield* proxy.cut
      const pending = yield* Effect.fork(writer.write("historical", rows.slice(1_000)))
      yield* until("the writer retries", writer.stats, (stats) => stats.retries > 1)
      expect(Option.isNone(yield* Fiber.poll(pending))).toBe(true)
      expect(yield* countOf("OUTAGE")).toBe(1_000)
      yield* proxy.restore
      yield* Fiber.join(pending).pipe(Effect.timeout("20 seconds"))
      expect(yield* countOf("OUTAGE")).toBe(3_000)
      const [sum] = yield* direct<{ v: number }>(
        "SELECT sum(open)::float8 AS v FROM datahub.historical_data WHERE symbol = 'OUTAGE'"
      )
      expect(sum?.v).toBe(rows.reduce((s, r) => s + r.open, 0))
    })
  )
})

layer(TestDatabase.layer, { timeout: 120_000, excludeTestServices: true })("BarWriter on shutdown", (it) => {
  it.effect("commits every queued row when its scope closes", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(writerServices({ queueCapacity: 64 }), scope)
      const writer = Context.get(context, BarWriter)
      yield* Context.get(context, SchemaState.SchemaState).ready
      const pages = Array.from({ length: 40 }, (_, i) => bars(`SHUT${i % 4}`, 2_500, { start: T0 + i * 1e9 }))
      const writes = yield* Effect.forEach(pages, (page) => Effect.fork(writer.write("historical", page)))
      yield* Effect.yieldNow()
      expect((yield* writer.stats).queuedRows).toBeGreaterThan(0)
      yield* Scope.close(scope, Exit.void)
      const [{ n }] = (yield* direct<{ n: number }>(
        "SELECT count(*)::int AS n FROM datahub.historical_data WHERE symbol LIKE 'SHUT%'"
      )) as [{ n: number }]
      expect(n).toBe(100_000)
      expect((yield* Effect.forEach(writes, Fiber.await)).every(Exit.isSuccess)).toBe(true)
    })
  )
})
