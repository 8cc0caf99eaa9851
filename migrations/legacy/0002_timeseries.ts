/**
 * Turns the bar tables into time series. With TimescaleDB: hypertables on `ts` (7-day chunks),
 * compression only for ranges old enough to be final (upserts into compressed chunks are slow
 * and buggy before 2.11 — timescale/timescaledb#5801), and continuous aggregates 1h and 1d from
 * 1m bars. Without it: BRIN indexes on `ts` for range scans; resampling uses `date_bin()`.
 */
import type { Migration, MigrationContext } from "@quasar/server"
import { Effect } from "effect"

/** Bars newer than this may still be corrected by a late upsert, so they stay uncompressed. */
export const COMPRESS_AFTER = "30 days"

const ohlcAggregate = (view: string, bucket: string) => `
  CREATE MATERIALIZED VIEW IF NOT EXISTS ${view} WITH (timescaledb.continuous) AS
  SELECT provider, symbol, time_bucket(INTERVAL '${bucket}', ts) AS ts,
         first(open, ts) AS open, max(high) AS high, min(low) AS low, last(close, ts) AS close,
         sum(volume) AS volume, sum(trades)::integer AS trades, count(*) AS bars
  FROM historical_data WHERE timeframe = '1m'
  GROUP BY provider, symbol, time_bucket(INTERVAL '${bucket}', ts)
  WITH NO DATA`

const timescale = ({ exec, features }: MigrationContext) =>
  Effect.gen(function* () {
    for (const table of ["historical_data", "live_data"]) {
      yield* exec(
        `SELECT create_hypertable('${table}', by_range('ts', INTERVAL '7 days'), if_not_exists => TRUE, migrate_data => TRUE)`
      )
    }
    // Compression and continuous aggregates are Timescale-licensed; apache builds lack them.
    if (features.timescale?.license === "apache") return
    yield* exec(`ALTER TABLE historical_data SET (timescaledb.compress,
      timescaledb.compress_segmentby = 'provider, symbol, timeframe', timescaledb.compress_orderby = 'ts DESC')`)
    yield* exec(
      `SELECT add_compression_policy('historical_data', compress_after => INTERVAL '${COMPRESS_AFTER}', if_not_exists => TRUE)`
    )
    // The refresh window starts at the beginning of time (start_offset NULL), not a few days
    // back: DataHub backfills history and re-requests gaps long after the fact, and those bars
    // land below the aggregate's watermark, where real-time aggregation does not look. A policy
    // refreshing only [now - 3 days, now - 1 hour] never materializes them, so historical_1h/1d
    // would silently lack every backfilled range (libs/server/test/migrations.timescale.test.ts
    // runs the policy's job over such a backfill). Refreshes only recompute buckets the
    // invalidation log marks as changed, so each run costs what changed, not the whole table.
    for (const [view, bucket, end, every] of [
      ["historical_1h", "1 hour", "1 hour", "15 minutes"],
      ["historical_1d", "1 day", "1 day", "1 hour"]
    ] as const) {
      yield* exec(ohlcAggregate(view, bucket))
      yield* exec(`ALTER MATERIALIZED VIEW ${view} SET (timescaledb.materialized_only = false)`)
      yield* exec(`SELECT add_continuous_aggregate_policy('${view}', start_offset => NULL,
        end_offset => INTERVAL '${end}', schedule_interval => INTERVAL '${every}', if_not_exists => TRUE)`)
    }
  })

const plain = ({ exec }: MigrationContext) =>
  Effect.forEach(
    ["historical_data", "live_data"],
    (table) => exec(`CREATE INDEX IF NOT EXISTS ${table}_ts_brin ON ${table} USING brin (ts)`),
    { discard: true }
  )

export const timeseries: Migration = {
  id: 2,
  name: "timeseries",
  up: (ctx) => (ctx.features.timescale ? timescale(ctx) : plain(ctx))
}
