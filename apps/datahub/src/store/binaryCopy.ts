/**
 * Bars in PostgreSQL's binary COPY format (postgresql.org/docs/current/sql-copy.html, "Binary
 * Format"): an 11-byte signature, flags and extension length, then per row a field count and each
 * field as a length (-1 for NULL) followed by the value in the type's binary send format. Numbers
 * go as IEEE 754 doubles and open times as int64 microseconds since 2000-01-01: nothing is turned
 * into text and parsed back, on either side.
 */
import type { BarRow } from "./barBatch"

export const COPY_COLUMNS = "(provider, symbol, timeframe, ts, open, high, low, close, volume, vwap, trades)"

const SIGNATURE = [0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00]
const HEADER = SIGNATURE.length + 8
const FIELDS = 11
/** Field count, ts and the five required doubles, each with its length word. */
const FIXED = 2 + 12 + 5 * 12
/** Microseconds between the Unix epoch and PostgreSQL's (2000-01-01 UTC). */
const PG_EPOCH_US = 946_684_800_000_000
const TWO_32 = 2 ** 32
const INT4_MAX = 2_147_483_647

const utf8 = new TextEncoder()

/** The three text fields of a series, with their length words, encoded once per batch. */
const seriesPrefix = (r: BarRow): Uint8Array => {
  const parts = [r.provider, r.symbol, r.timeframe].map((s) => utf8.encode(s))
  const out = new Uint8Array(parts.reduce((n, p) => n + 4 + p.length, 0))
  const view = new DataView(out.buffer)
  let at = 0
  for (const p of parts) {
    view.setInt32(at, p.length)
    out.set(p, at + 4)
    at += 4 + p.length
  }
  return out
}

/**
 * The rows at `keep` (indexes into `rows`; `series[i] - 1` is row i's series in `seriesRows`) as
 * one COPY input, or undefined when a value has no exact binary form here (a trade count that is
 * not an int4): the caller then uses the INSERT, which refuses such a value with a precise error.
 */
export const encodeBinaryCopy = (
  rows: ReadonlyArray<BarRow>,
  keep: ReadonlyArray<number>,
  seriesOf: Int32Array,
  seriesRows: ReadonlyArray<BarRow>
): Uint8Array | undefined => {
  const prefixes = seriesRows.map(seriesPrefix)
  let size = HEADER + 2
  for (const i of keep) {
    const r = rows[i]!
    if (
      r.trades != null &&
      !(Number.isInteger(r.trades) && r.trades <= INT4_MAX && r.trades >= -INT4_MAX - 1)
    )
      return undefined
    size +=
      FIXED + prefixes[seriesOf[i]! - 1]!.length + (r.vwap == null ? 4 : 12) + (r.trades == null ? 4 : 8)
  }
  const out = new Uint8Array(size)
  const view = new DataView(out.buffer)
  out.set(SIGNATURE, 0)
  // Flags and header extension length: both zero (already).
  let at = HEADER
  const double = (x: number) => {
    view.setInt32(at, 8)
    view.setFloat64(at + 4, x)
    at += 12
  }
  for (const i of keep) {
    const r = rows[i]!
    view.setInt16(at, FIELDS)
    at += 2
    const prefix = prefixes[seriesOf[i]! - 1]!
    out.set(prefix, at)
    at += prefix.length
    const us = r.ts * 1000 - PG_EPOCH_US
    const high = Math.floor(us / TWO_32)
    view.setInt32(at, 8)
    view.setInt32(at + 4, high)
    view.setUint32(at + 8, us - high * TWO_32)
    at += 12
    double(r.open)
    double(r.high)
    double(r.low)
    double(r.close)
    double(r.volume)
    if (r.vwap == null) {
      view.setInt32(at, -1)
      at += 4
    } else double(r.vwap)
    if (r.trades == null) {
      view.setInt32(at, -1)
      at += 4
    } else {
      view.setInt32(at, 4)
      view.setInt32(at + 4, r.trades)
      at += 8
    }
  }
  view.setInt16(at, -1)
  return out
}
