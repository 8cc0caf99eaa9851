/**
 * A series' stored bars as blocks of binary columns (`BarColumns` format of @quasar/domain),
 * read in keyset pages. PostgreSQL packs each page itself: one row per page holding every column
 * as one bytea of big-endian doubles (`float8send`, `timestamptz_send`), so a page of 50,000 bars
 * costs six buffers on this side, never 50,000 row objects, and runs the same on the embedded
 * database as on a server.
 */
import type { Buffer } from "node:buffer"
import { SqlClient } from "@effect/sql"
import { BAR_COLUMN_NAMES, barColumnsBlock } from "@quasar/domain"
import { Context, Effect, Layer, Option } from "effect"
import { type Series, toTimestamp } from "./BarsRepo"

export const COLUMN_PAGE_BARS = 50_000

// The aggregates take the rows in the sorted subquery's order: one plain aggregate over one
// ordered scan, so all six columns line up (an ORDER BY in each aggregate would sort six times).
const pageSql = `
  SELECT count(*)::int AS n,
         string_agg(timestamptz_send(ts), '') AS ts,
         string_agg(float8send(open), '') AS open,
         string_agg(float8send(high), '') AS high,
         string_agg(float8send(low), '') AS low,
         string_agg(float8send(close), '') AS close,
         string_agg(float8send(volume), '') AS volume
  FROM (SELECT ts, open, high, low, close, volume FROM datahub.historical_data
        WHERE provider = $1 AND symbol = $2 AND timeframe = $3 AND ts >= $4 AND ts < $5 AND ts > $6
        ORDER BY ts LIMIT $7) AS page`

interface PageRow {
  readonly n: number
  readonly ts: Buffer | null
  readonly open: Buffer | null
  readonly high: Buffer | null
  readonly low: Buffer | null
  readonly close: Buffer | null
  readonly volume: Buffer | null
}

/** Microseconds between the Unix epoch and PostgreSQL's (2000-01-01 UTC). */
const PG_EPOCH_MS = 946_684_800_000
const TWO_32 = 2 ** 32

/** One page as a block: its bytes, its bar count and the open time of its last bar. */
export interface ColumnBlock {
  readonly bytes: Uint8Array<ArrayBuffer>
  readonly n: number
  readonly lastMs: number
}

/** The page's big-endian columns as one little-endian block. */
const toBlock = (row: PageRow): ColumnBlock => {
  const { n } = row
  const block = barColumnsBlock(n)
  const out = new DataView(block.bytes.buffer)
  const columnAt = (c: number) => 8 + c * n * 8
  const ts = row.ts!
  const tsView = new DataView(ts.buffer, ts.byteOffset, ts.byteLength)
  let lastMs = 0
  for (let i = 0; i < n; i++) {
    const us = tsView.getInt32(i * 8) * TWO_32 + tsView.getUint32(i * 8 + 4)
    lastMs = us / 1000 + PG_EPOCH_MS
    out.setFloat64(columnAt(0) + i * 8, lastMs, true)
  }
  // The doubles need only their byte order turned (to the little-endian of the format and of the
  // x86-64 and arm64 hosts DataHub runs on): done natively, then copied as they are.
  for (let c = 1; c < BAR_COLUMN_NAMES.length; c++)
    block.bytes.set(row[BAR_COLUMN_NAMES[c]!]!.swap64(), columnAt(c))
  return { bytes: block.bytes, n, lastMs }
}

const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient

  /** Up to `limit` bars of `series` with from <= ts < to and ts > after, as one block (n may be 0). */
  const page = (
    series: Series,
    range: { readonly from: number | undefined; readonly to: number | undefined },
    after: number | undefined,
    limit = COLUMN_PAGE_BARS
  ) =>
    sql
      .unsafe<PageRow>(pageSql, [
        series.provider,
        series.symbol,
        series.timeframe,
        toTimestamp(range.from, "-infinity"),
        toTimestamp(range.to, "infinity"),
        toTimestamp(after, "-infinity"),
        limit
      ])
      .pipe(
        Effect.map(([row]) => (row === undefined || row.n === 0 ? undefined : toBlock(row))),
        Effect.withSpan("BarColumnsRepo.page", { attributes: { ...series, after, limit } })
      )

  /** Open time of the last bar of `series` in the range, if there is one. */
  const lastMs = (
    series: Series,
    range: { readonly from: number | undefined; readonly to: number | undefined }
  ) =>
    sql
      .unsafe<{ ms: number }>(
        `SELECT (extract(epoch FROM ts) * 1000)::float8 AS ms FROM datahub.historical_data
         WHERE provider = $1 AND symbol = $2 AND timeframe = $3 AND ts >= $4 AND ts < $5
         ORDER BY ts DESC LIMIT 1`,
        [
          series.provider,
          series.symbol,
          series.timeframe,
          toTimestamp(range.from, "-infinity"),
          toTimestamp(range.to, "infinity")
        ]
      )
      .pipe(
        Effect.map(([row]) => Option.fromNullable(row?.ms)),
        Effect.withSpan("BarColumnsRepo.lastMs", { attributes: { ...series } })
      )

  return { page, lastMs } as const
})

export class BarColumnsRepo extends Context.Tag("@quasar/datahub/BarColumnsRepo")<
  BarColumnsRepo,
  Effect.Effect.Success<typeof make>
>() {
  static readonly layer = Layer.effect(BarColumnsRepo, make)
}
