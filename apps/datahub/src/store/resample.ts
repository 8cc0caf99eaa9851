/**
 * Resampling stored bars into a larger timeframe, in SQL, the same way on both engines. Only the
 * bucket function differs: TimescaleDB's `time_bucket`, or PostgreSQL's `date_bin` (PG 14+) where
 * the extension is absent. Both put a bucket's open on the same grid: `time_bucket` counts from
 * its default origin 2000-01-03 00:00 UTC, a Monday, and `date_bin` is given that origin, so weekly
 * buckets open on Monday 00:00 UTC and shorter ones on whole multiples from midnight UTC — the grid
 * `Timeframe.barOpen` uses. (test/bars/resample.timescale.test.ts runs both on one database.)
 *
 * A bucket: open of its first bar and close of its last (by ts), highest high, lowest low, summed
 * volume and trades, and vwap weighted by volume. vwap and trades are null for a bucket when any
 * of its bars lacks them (a partial sum would look exact and be wrong), and vwap also when the
 * bucket traded no volume. Buckets are built from whatever bars are stored in them: a bucket cut
 * by `from`/`to` or by a gap is served partial, not dropped — the chart's last, still-forming
 * bucket is partial too, and dropping it would hide the newest data.
 *
 * Volume and vwap are computed (sums over many floats, a ratio), so they carry float noise
 * (`3219.749999999999`); they are rounded to `RESAMPLED_SIGNIFICANT_DIGITS` significant digits,
 * in SQL, after aggregation, so both engines serve the same digits. Open, high, low and close are
 * stored values and pass unchanged.
 */
import { RESAMPLED_SIGNIFICANT_DIGITS, Timeframe } from "@quasar/domain"

export type BucketFunction = "time_bucket" | "date_bin"

const bucketOf: Record<BucketFunction, string> = {
  time_bucket: "time_bucket($6::interval, ts)",
  date_bin: "date_bin($6::interval, ts, timestamptz '2000-01-03 00:00:00+00')"
}

/**
 * `x` (a float8 expression, evaluated once per row) rounded to `digits` significant digits: the
 * decimal place to round at follows the magnitude, `digits - 1 - floor(log10 |x|)`. Zero and NULL
 * pass unchanged (log10 of 0 is undefined).
 */
export const significant = (x: string, digits = RESAMPLED_SIGNIFICANT_DIGITS) =>
  `CASE WHEN ${x} = 0 THEN ${x} ELSE round(${x}::numeric, ${digits - 1} - floor(log(abs(${x})))::int)::float8 END`

/**
 * Resampled bars `(ts, open, high, low, close, volume, vwap, trades)`, oldest first, from the bars
 * of one series in `[lo, hi)`. Parameters: $1 provider, $2 symbol, $3 stored timeframe, $4 lo and
 * $5 hi (timestamptz), $6 the bucket length (`bucketParam`).
 */
export const resampledRows = (fn: BucketFunction) => `
  SELECT ts, open, high, low, close, ${significant("volume")} AS volume, ${significant("vwap")} AS vwap, trades
  FROM (SELECT bucket AS ts,
               (array_agg(open ORDER BY ts))[1] AS open, max(high) AS high, min(low) AS low,
               (array_agg(close ORDER BY ts DESC))[1] AS close, sum(volume) AS volume,
               CASE WHEN count(vwap) = count(*) AND sum(volume) > 0 THEN sum(vwap * volume) / sum(volume) END AS vwap,
               CASE WHEN count(trades) = count(*) THEN sum(trades) END AS trades
        FROM (SELECT ${bucketOf[fn]} AS bucket, ts, open, high, low, close, volume, vwap, trades
              FROM datahub.historical_data
              WHERE provider = $1 AND symbol = $2 AND timeframe = $3 AND ts >= $4 AND ts < $5) AS stored
        GROUP BY bucket) AS buckets
  ORDER BY ts`

/** `$6` for `resampledRows`: every timeframe is a whole number of seconds. */
export const bucketParam = (tf: Timeframe.Timeframe): string => `${Timeframe.durationMs(tf) / 1000} seconds`

/**
 * The stored range one page of at most `limit` buckets reads, given the open time of the first
 * stored bar at or after `lo`: from `lo` up to the end of the `limit`-th bucket (or `hi`). Bounding
 * the raw range keeps a page's cost proportional to its size instead of to the whole history.
 */
export const pageWindow = (
  resample: Timeframe.Timeframe,
  firstStoredMs: number,
  limit: number,
  hi: number | undefined
): number => {
  const end = Timeframe.barOpen(resample, firstStoredMs) + limit * Timeframe.durationMs(resample)
  return hi === undefined ? end : Math.min(end, hi)
}
