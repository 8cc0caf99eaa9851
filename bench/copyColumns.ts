/**
 * The end-to-end backtest's baseline reads its bars as a plain one-process script would: one
 * binary `COPY … TO STDOUT` through pg-copy-streams, each tuple's six fields read where they lie
 * straight into growing Float64Arrays. No HTTP, no format of ours, no sandbox: what the services'
 * path is measured against.
 *
 * Binary COPY (PostgreSQL manual, "COPY", "Binary Format"): an 11-byte signature, int32 flags,
 * int32 extension length and that many bytes; per tuple an int16 field count and per field an
 * int32 length and the value (timestamptz: int64 microseconds since 2000-01-01 UTC; float8: IEEE
 * 754, big-endian); a field count of -1 ends it.
 */
import type Pg from "pg"
import { to } from "pg-copy-streams"
import type { Columns } from "./smaCrossLoop"

const PG_EPOCH_MS = 946_684_800_000
const FIELDS = 6
const TUPLE_BYTES = 2 + FIELDS * 12

export const copyColumns = async (client: Pg.Client, query: string, capacity: number): Promise<Columns> => {
  const cols = Array.from({ length: FIELDS }, () => new Float64Array(capacity))
  let n = 0
  let ended = false
  /** Reads the tuple at `at` of `view`, or notes the trailer. */
  const tuple = (view: DataView, at: number) => {
    if (view.getInt16(at) === -1) {
      ended = true
      return
    }
    let p = at + 2 + 4
    cols[0]![n] = (view.getInt32(p) * 2 ** 32 + view.getUint32(p + 4)) / 1000 + PG_EPOCH_MS
    for (let f = 1; f < FIELDS; f++) {
      p += 12
      cols[f]![n] = view.getFloat64(p)
    }
    n++
  }
  // The bytes of a tuple split across two chunks, joined (at most one tuple is ever carried).
  const carry = new Uint8Array(TUPLE_BYTES + 64)
  const carryView = new DataView(carry.buffer)
  let carried = 0
  let skip = -1 // header bytes still to skip; -1 until the header's length is known
  const stream = client.query(to(`COPY (${query}) TO STDOUT (FORMAT binary)`))
  for await (const chunk of stream as AsyncIterable<Uint8Array>) {
    let at = 0
    if (skip === -1) {
      // The first chunk holds the 19-byte header (the server sends it whole).
      skip = 19 + new DataView(chunk.buffer, chunk.byteOffset).getInt32(15)
    }
    if (skip > 0) {
      const skipped = Math.min(skip, chunk.length)
      at = skipped
      skip -= skipped
    }
    const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    if (carried > 0) {
      const need = Math.min(TUPLE_BYTES - carried, chunk.length)
      carry.set(chunk.subarray(0, need), carried)
      carried += need
      at = need
      if (carried >= 2 && carryView.getInt16(0) === -1) ended = true
      else if (carried < TUPLE_BYTES) continue
      else tuple(carryView, 0)
      carried = 0
    }
    while (!ended && at + 2 <= chunk.length) {
      if (view.getInt16(at) === -1) {
        ended = true
        break
      }
      if (at + TUPLE_BYTES > chunk.length) break
      tuple(view, at)
      at += TUPLE_BYTES
    }
    if (!ended && at < chunk.length) {
      carry.set(chunk.subarray(at), 0)
      carried = chunk.length - at
    }
  }
  const [ts, open, high, low, close, volume] = cols.map((c) => c.subarray(0, n)) as [
    Float64Array<ArrayBuffer>,
    Float64Array<ArrayBuffer>,
    Float64Array<ArrayBuffer>,
    Float64Array<ArrayBuffer>,
    Float64Array<ArrayBuffer>,
    Float64Array<ArrayBuffer>
  ]
  return { ts, open, high, low, close, volume }
}
