/**
 * One writer batch as one statement: rows are de-duplicated on the primary key (the last write
 * wins) and sent as eleven array parameters to `INSERT … SELECT FROM unnest(…) ON CONFLICT`.
 *
 * Why this shape: a multi-row `VALUES` list costs a parameter per value (PostgreSQL allows 65,535)
 * and a parse per statement size; unnest takes any number of rows in one plan. The array literals
 * are built here rather than by `pg` (which quotes and escapes every element, numbers included):
 * measured on PostgreSQL 15 with 1M rows in 5,000-row batches, 54k rows/s against 39k rows/s,
 * and 43k rows/s for one `json_to_recordset` parameter instead.
 */
import type { Timeframe } from "@quasar/domain"

/** Where a bar goes: closed bars are history, the forming bar of a series is live. */
export type BarTarget = "historical" | "live"

export const tableOf: Record<BarTarget, string> = { historical: "historical_data", live: "live_data" }

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
}

export interface UpsertStatement {
  readonly text: string
  readonly params: ReadonlyArray<string>
  /** Rows after de-duplication. */
  readonly rows: number
}

const keyOf = (r: BarRow) => `${r.provider}\u0000${r.symbol}\u0000${r.timeframe}\u0000${r.ts}`

/**
 * The rows to store, in order, keeping only the last row of each key: `ON CONFLICT DO UPDATE`
 * refuses to touch the same row twice in one statement ("command cannot affect row a second time").
 */
export const lastPerKey = (rows: ReadonlyArray<BarRow>): ReadonlyArray<BarRow> => {
  const last = new Map<string, number>()
  for (let i = 0; i < rows.length; i++) last.set(keyOf(rows[i]!), i)
  if (last.size === rows.length) return rows
  const out: Array<BarRow> = []
  for (let i = 0; i < rows.length; i++) if (last.get(keyOf(rows[i]!)) === i) out.push(rows[i]!)
  return out
}

/** `{1.5,2,NULL}`: String(n) is what float8in/int8in read back exactly (NaN and ±Infinity too). */
const numbers = (rows: ReadonlyArray<BarRow>, pick: (r: BarRow) => number | null | undefined) => {
  let out = "{"
  for (let i = 0; i < rows.length; i++) {
    const v = pick(rows[i]!)
    out += (i === 0 ? "" : ",") + (v === null || v === undefined ? "NULL" : String(v))
  }
  return `${out}}`
}

/** `{"a","b"}` with `\` and `"` escaped; a batch repeats few distinct names, so each is quoted once. */
const texts = (rows: ReadonlyArray<BarRow>, pick: (r: BarRow) => string) => {
  const quoted = new Map<string, string>()
  let out = "{"
  for (let i = 0; i < rows.length; i++) {
    const s = pick(rows[i]!)
    let q = quoted.get(s)
    if (q === undefined) {
      q = `"${s.replace(/[\\"]/g, "\\$&")}"`
      quoted.set(s, q)
    }
    out += (i === 0 ? "" : ",") + q
  }
  return `${out}}`
}

const statementText = (table: string) => `
  INSERT INTO ${table} AS t (provider, symbol, timeframe, ts, open, high, low, close, volume, vwap, trades)
  SELECT p, s, tf, timestamptz 'epoch' + ms * interval '1 millisecond', o, h, l, c, v, w, n
  FROM unnest($1::text[], $2::text[], $3::text[], $4::int8[], $5::float8[], $6::float8[], $7::float8[],
              $8::float8[], $9::float8[], $10::float8[], $11::int4[]) AS u(p, s, tf, ms, o, h, l, c, v, w, n)
  ON CONFLICT (provider, symbol, timeframe, ts) DO UPDATE SET
    open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close,
    volume = EXCLUDED.volume, vwap = EXCLUDED.vwap, trades = EXCLUDED.trades, ingested_at = now()
  -- Rewriting an identical bar (re-requested gaps, replays) leaves no dead tuple and no
  -- continuous-aggregate invalidation behind. ts is never updated: TimescaleDB cannot move a
  -- row between chunks in an upsert.
  WHERE (t.open, t.high, t.low, t.close, t.volume, t.vwap, t.trades)
    IS DISTINCT FROM (EXCLUDED.open, EXCLUDED.high, EXCLUDED.low, EXCLUDED.close, EXCLUDED.volume,
                      EXCLUDED.vwap, EXCLUDED.trades)`

const statements: Record<BarTarget, string> = {
  historical: statementText(tableOf.historical),
  live: statementText(tableOf.live)
}

/** The idempotent upsert of `rows` (any number, duplicates allowed) into `target`. */
export const upsertStatement = (target: BarTarget, rows: ReadonlyArray<BarRow>): UpsertStatement => {
  const unique = lastPerKey(rows)
  return {
    text: statements[target],
    params: [
      texts(unique, (r) => r.provider),
      texts(unique, (r) => r.symbol),
      texts(unique, (r) => r.timeframe),
      numbers(unique, (r) => r.ts),
      numbers(unique, (r) => r.open),
      numbers(unique, (r) => r.high),
      numbers(unique, (r) => r.low),
      numbers(unique, (r) => r.close),
      numbers(unique, (r) => r.volume),
      numbers(unique, (r) => r.vwap),
      numbers(unique, (r) => r.trades)
    ],
    rows: unique.length
  }
}
