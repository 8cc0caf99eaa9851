/**
 * One writer batch as one statement: rows are de-duplicated on the primary key (the last write
 * wins) and sent column by column as array parameters to `INSERT … SELECT FROM unnest(…) ON
 * CONFLICT DO UPDATE`, or, for rows newer than anything stored, to the same INSERT without
 * ON CONFLICT (see `append` below).
 *
 * Why this shape: a multi-row `VALUES` list costs a parameter per value (PostgreSQL allows 65,535)
 * and a parse per statement size; unnest takes any number of rows in one plan. The array literals
 * are built here rather than by `pg` (which quotes and escapes every element, numbers included):
 * that writes about a third more rows per second than `pg`'s arrays or one `json_to_recordset`
 * parameter.
 */
import type { Timeframe } from "@quasar/domain"
import { COPY_COLUMNS, encodeBinaryCopy } from "./binaryCopy"

/** Where a bar goes: closed bars are history, the forming bar of a series is live. */
export type BarTarget = "historical" | "live"

export const tableOf: Record<BarTarget, string> = {
  historical: "datahub.historical_data",
  live: "datahub.live_data"
}

/** A bar as collectors hand it to the writer: open time in UTC epoch milliseconds. */
export interface BarRow {
  readonly provider: string
  readonly symbol: string
  readonly timeframe: Timeframe.Timeframe
  readonly ts: number
  readonly open: number
  readonly high: number
  readonly low: number
  readonly close: number
  readonly volume: number
  readonly vwap?: number | null | undefined
  readonly trades?: number | null | undefined
  /** `seriesKey` of the row, when the caller has it at hand (live writes): not built again per row. */
  readonly key?: string | undefined
}

/** The open times a statement covers for one series. */
export interface SeriesExtent {
  readonly key: string
  readonly first: number
  readonly last: number
}

export interface UpsertStatement {
  /** The idempotent upsert. */
  readonly text: string
  /**
   * The same rows as a plain INSERT, which fails (unique_violation, 23505) if any of them is
   * already stored. An upsert pays for speculative insertion on every row, a plain INSERT does
   * not, which makes appending batches markedly faster. The writer uses it
   * for rows newer than any it stored in the series and falls back to `text` on a conflict.
   */
  readonly append: string
  /** The parameters of `text` and `append`, encoded on the first call. */
  readonly params: () => ReadonlyArray<string>
  /**
   * The same rows as a binary `COPY` (encoded on the first call; undefined if a value has no
   * binary form here), the fastest way to append them: `copyText` fails like `append` on a
   * stored row.
   */
  readonly copy: () => Uint8Array | undefined
  readonly copyText: string
  /** Rows after de-duplication, and the range of open times of each series. */
  readonly rows: number
  readonly series: ReadonlyArray<SeriesExtent>
}

/** One string per series (provider, symbol, timeframe), for maps and routing. */
export const seriesKey = (s: {
  readonly provider: string
  readonly symbol: string
  readonly timeframe: string
}): string => `${s.provider}\u0000${s.symbol}\u0000${s.timeframe}`

/** The row's series key: the one it carries, or built. */
export const rowKey = (r: BarRow): string => r.key ?? seriesKey(r)

/** Whether two rows are of one series, without building keys (rows of a write mostly are). */
export const sameSeries = (a: BarRow, b: BarRow): boolean =>
  a.symbol === b.symbol && a.provider === b.provider && a.timeframe === b.timeframe

/**
 * The batch's series (few: a batch holds pages of a handful of series) and, for each row kept, the
 * 1-based index of its series. Only the last row of each key is kept: `ON CONFLICT DO UPDATE`
 * refuses to touch the same row twice in one statement ("command cannot affect row a second time").
 */
const indexRows = (rows: ReadonlyArray<BarRow>) => {
  const seriesOf = new Map<string, number>()
  const series: Array<BarRow> = []
  const extents: Array<{ key: string; first: number; last: number }> = []
  const index = new Int32Array(rows.length)
  // Whether every series' open times rise strictly through the batch (the usual case: pages in
  // order), in which case no key repeats and no de-duplication is needed.
  let rising = true
  let previous: BarRow | undefined
  let n: number | undefined
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!
    // Consecutive rows mostly share a series: its key is looked up only when it changes.
    let key: string | undefined
    if (previous === undefined || !sameSeries(r, previous)) {
      key = rowKey(r)
      n = seriesOf.get(key)
    }
    previous = r
    if (n === undefined) {
      key ??= rowKey(r)
      n = series.push(r)
      seriesOf.set(key, n)
      extents.push({ key, first: r.ts, last: r.ts })
    } else {
      const extent = extents[n - 1]!
      if (r.ts <= extent.last) rising = false
      if (r.ts < extent.first) extent.first = r.ts
      if (r.ts > extent.last) extent.last = r.ts
    }
    index[i] = n
  }
  if (rising) {
    const keep = new Array<number>(rows.length)
    for (let i = 0; i < rows.length; i++) keep[i] = i
    return { series, extents, index, keep }
  }
  const lastAt = series.map(() => new Map<number, number>())
  for (let i = 0; i < rows.length; i++) lastAt[index[i]! - 1]!.set(rows[i]!.ts, i)
  const keep: Array<number> = []
  for (let i = 0; i < rows.length; i++) if (lastAt[index[i]! - 1]!.get(rows[i]!.ts) === i) keep.push(i)
  return { series, extents, index, keep }
}

/** `{1.5,2,NULL}`: String(n) is what float8in/int8in read back exactly (NaN and ±Infinity too). */
const numbers = (keep: ReadonlyArray<number>, value: (i: number) => number | null | undefined) => {
  let out = "{"
  for (let k = 0; k < keep.length; k++) {
    const v = value(keep[k]!)
    out += (k === 0 ? "" : ",") + (v === null || v === undefined ? "NULL" : String(v))
  }
  return `${out}}`
}

/** `{"a","b"}`, with `\` and `"` escaped. */
const texts = (values: ReadonlyArray<string>) =>
  `{${values.map((s) => `"${s.includes('"') || s.includes("\\") ? s.replace(/[\\"]/g, "\\$&") : s}"`).join(",")}}`

/**
 * Two shapes of the same INSERT. Few series (history: pages of a handful): series names go once
 * per series and each row carries its series' index, since parsing three text arrays of a
 * batch's length cost ~7% of the statement. Many series (live: one forming bar per series): the
 * names go per row, since PostgreSQL finds element i of a text array by walking the i before it,
 * so indexing makes such a statement quadratic in the number of series.
 * ts arrives as epoch ms; `to_timestamp(float8)` rounds to the microsecond, exact for any
 * millisecond value, and costs half of `'epoch' + ms * interval '1 millisecond'`.
 */
type Shape = "indexed" | "perRow"

/** More series than this in one statement: names per row. */
const INDEXED_SERIES_MAX = 32

const COLUMNS = "(provider, symbol, timeframe, ts, open, high, low, close, volume, vwap, trades)"

const insertText = (table: string, shape: Shape) =>
  shape === "indexed"
    ? `
  INSERT INTO ${table} AS t ${COLUMNS}
  SELECT ($1::text[])[i], ($2::text[])[i], ($3::text[])[i], to_timestamp(ms::float8 / 1000), o, h, l, c, v, w, n
  FROM unnest($4::int4[], $5::int8[], $6::float8[], $7::float8[], $8::float8[], $9::float8[], $10::float8[],
              $11::float8[], $12::int4[]) AS u(i, ms, o, h, l, c, v, w, n)`
    : `
  INSERT INTO ${table} AS t ${COLUMNS}
  SELECT p, s, tf, to_timestamp(ms::float8 / 1000), o, h, l, c, v, w, n
  FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::float8[], $6::float8[], $7::float8[],
              $8::float8[], $9::float8[], $10::float8[], $11::int4[]) AS u(p, s, tf, ms, o, h, l, c, v, w, n)`

const upsertText = (table: string, shape: Shape) => `${insertText(table, shape)}
  ON CONFLICT (provider, symbol, timeframe, ts) DO UPDATE SET
    open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close,
    volume = EXCLUDED.volume, vwap = EXCLUDED.vwap, trades = EXCLUDED.trades, ingested_at = now()
  -- Rewriting an identical bar (re-requested gaps, replays) leaves no dead tuple and no
  -- continuous-aggregate invalidation behind. ts is never updated: TimescaleDB cannot move a
  -- row between chunks in an upsert.
  WHERE (t.open, t.high, t.low, t.close, t.volume, t.vwap, t.trades)
    IS DISTINCT FROM (EXCLUDED.open, EXCLUDED.high, EXCLUDED.low, EXCLUDED.close, EXCLUDED.volume,
                      EXCLUDED.vwap, EXCLUDED.trades)`

const byShape = (
  text: (table: string, shape: Shape) => string
): Record<BarTarget, Record<Shape, string>> => ({
  historical: { indexed: text(tableOf.historical, "indexed"), perRow: text(tableOf.historical, "perRow") },
  live: { indexed: text(tableOf.live, "indexed"), perRow: text(tableOf.live, "perRow") }
})
const upserts = byShape(upsertText)
const appends = byShape(insertText)

const copies: Record<BarTarget, string> = {
  historical: `COPY ${tableOf.historical} ${COPY_COLUMNS} FROM STDIN (FORMAT binary)`,
  live: `COPY ${tableOf.live} ${COPY_COLUMNS} FROM STDIN (FORMAT binary)`
}

/** Computes `f` once, on first call. */
const lazy = <A>(f: () => A): (() => A) => {
  let done = false
  let value: A
  return () => {
    if (!done) {
      value = f()
      done = true
    }
    return value
  }
}

/** The idempotent upsert of `rows` (any number, duplicate keys allowed) into `target`. */
export const upsertStatement = (target: BarTarget, rows: ReadonlyArray<BarRow>): UpsertStatement => {
  const { series, extents, index, keep } = indexRows(rows)
  const column = (pick: (r: BarRow) => number | null | undefined) => numbers(keep, (i) => pick(rows[i]!))
  const shape: Shape = series.length > INDEXED_SERIES_MAX ? "perRow" : "indexed"
  const names = (pick: (r: BarRow) => string) =>
    shape === "indexed" ? texts(series.map(pick)) : texts(keep.map((i) => pick(rows[i]!)))
  const params = lazy(() => [
    names((r) => r.provider),
    names((r) => r.symbol),
    names((r) => r.timeframe),
    ...(shape === "indexed" ? [numbers(keep, (i) => index[i])] : []),
    column((r) => r.ts),
    column((r) => r.open),
    column((r) => r.high),
    column((r) => r.low),
    column((r) => r.close),
    column((r) => r.volume),
    column((r) => r.vwap),
    column((r) => r.trades)
  ])
  const copy = lazy(() => encodeBinaryCopy(rows, keep, index, series))
  return {
    text: upserts[target][shape],
    append: appends[target][shape],
    copyText: copies[target],
    params,
    copy,
    rows: keep.length,
    series: extents
  }
}
