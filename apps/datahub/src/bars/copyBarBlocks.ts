/**
 * PostgreSQL's binary COPY output of (ts, open, high, low, close, volume) turned into blocks of
 * the `BarColumns` format as it streams: each tuple's fields are read where they lie in the
 * chunk the socket delivered and written straight into the block's float64 columns, so a million
 * bars cost a block's worth of memory at a time and no per-bar object.
 *
 * The binary format (PostgreSQL manual, "COPY", "Binary Format"): the signature
 * "PGCOPY\n\xff\r\n\0", an int32 of flags, an int32 header-extension length and that many bytes;
 * then per tuple an int16 field count and per field an int32 byte length (-1 for NULL) and the
 * value in its `*send` form (big-endian: timestamptz as int64 microseconds since 2000-01-01 UTC,
 * float8 as IEEE 754); the trailer is a field count of -1. Tuples fall anywhere across chunks.
 */
import { BAR_COLUMN_NAMES, BAR_COLUMNS_BAR_BYTES, BAR_COLUMNS_BLOCK_HEAD_BYTES } from "@quasar/domain"
import { Effect, Stream } from "effect"

const SIGNATURE = [0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00]
/** Signature, flags and extension length. */
const HEADER_BYTES = SIGNATURE.length + 8
const FIELDS = BAR_COLUMN_NAMES.length
/** Field count, then per field its length and eight bytes of value. */
const TUPLE_BYTES = 2 + FIELDS * 12
/** Milliseconds between the Unix epoch and PostgreSQL's (2000-01-01 UTC). */
const PG_EPOCH_MS = 946_684_800_000
const TWO_32 = 2 ** 32

/**
 * Bytes of a chunk joined to the part of a tuple the chunk before left over: enough to complete
 * it, or the header with a short extension.
 */
const CARRY_WINDOW = 256

const concat = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(a.length + b.length)
  out.set(a, 0)
  out.set(b, a.length)
  return out
}

/** A block being filled: its bytes and a Float64Array over each of its columns. */
interface OpenBlock {
  readonly bytes: Uint8Array<ArrayBuffer>
  readonly columns: ReadonlyArray<Float64Array<ArrayBuffer>>
}

const openBlock = (bars: number): OpenBlock => {
  const bytes = new Uint8Array(BAR_COLUMNS_BLOCK_HEAD_BYTES + bars * BAR_COLUMNS_BAR_BYTES)
  new DataView(bytes.buffer).setUint32(0, bars, true)
  // Float64Arrays write in the host's byte order: little-endian on the x86-64 and arm64 hosts
  // DataHub runs on, as the format wants.
  const columns = BAR_COLUMN_NAMES.map(
    (_, c) => new Float64Array(bytes.buffer, BAR_COLUMNS_BLOCK_HEAD_BYTES + c * bars * 8, bars)
  )
  return { bytes, columns }
}

/** The first `n` bars of a full-size block, as a block of `n`. */
const shrink = (block: OpenBlock, n: number): Uint8Array<ArrayBuffer> => {
  const out = openBlock(n)
  for (let c = 0; c < FIELDS; c++) out.columns[c]!.set(block.columns[c]!.subarray(0, n))
  return out.bytes
}

/** A stream that is not a binary COPY of six non-null 8-byte fields: a bug in the statement. */
export class CopyFormatError extends Error {}

/**
 * Decodes one binary COPY, chunk by chunk, into blocks of `blockBars` bars (the last one
 * shorter). `push` answers the blocks a chunk completed; `end` the last, partial one.
 */
export class CopyBarDecoder {
  private carry: Uint8Array | undefined
  private headerRead = false
  private ended = false
  private block: OpenBlock
  private filled = 0

  constructor(private readonly blockBars: number) {
    this.block = openBlock(blockBars)
  }

  push(chunk: Uint8Array): Array<Uint8Array<ArrayBuffer>> {
    const out: Array<Uint8Array<ArrayBuffer>> = []
    let bytes = chunk
    let at = 0
    const carry = this.carry
    if (carry !== undefined) {
      // The tuple cut by the last chunk is completed from the head of this one; the rest of
      // this one is read where it lies, so a chunk is never copied whole.
      const head = chunk.subarray(0, CARRY_WINDOW)
      const window = concat(carry, head)
      const stop = this.parse(window, 0, out)
      if (stop >= carry.length) at = stop - carry.length
      else if (head.length === chunk.length) {
        this.carry = window.slice(stop)
        return out
      } else bytes = concat(window.subarray(stop), chunk.subarray(head.length))
    }
    const stop = this.parse(bytes, at, out)
    this.carry = stop < bytes.length ? bytes.slice(stop) : undefined
    return out
  }

  /** The last block (undefined if it holds no bar); fails if the COPY stopped before its trailer. */
  end(): Uint8Array<ArrayBuffer> | undefined {
    if (!this.ended) throw new CopyFormatError("the COPY ended before its trailer")
    if (this.filled === 0) return undefined
    return this.filled === this.blockBars ? this.block.bytes : shrink(this.block, this.filled)
  }

  /** Reads the header and whole tuples of `bytes` from `at`; where it stopped. */
  private parse(bytes: Uint8Array, from: number, out: Array<Uint8Array<ArrayBuffer>>): number {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    let at = from
    if (!this.headerRead) {
      if (bytes.length - at < HEADER_BYTES) return at
      if (SIGNATURE.some((b, i) => bytes[at + i] !== b))
        throw new CopyFormatError("not a binary COPY: the PGCOPY signature is missing")
      const start = at + HEADER_BYTES + view.getInt32(at + SIGNATURE.length + 4)
      if (bytes.length < start) return at
      this.headerRead = true
      at = start
    }
    while (!this.ended && at + 2 <= bytes.length) {
      const fields = view.getInt16(at)
      if (fields === -1) {
        this.ended = true
        at += 2
        break
      }
      if (fields !== FIELDS) throw new CopyFormatError(`a COPY tuple of ${fields} fields: expected ${FIELDS}`)
      if (at + TUPLE_BYTES > bytes.length) break
      let field = at + 2
      for (let c = 0; c < FIELDS; c++, field += 12)
        if (view.getInt32(field) !== 8)
          throw new CopyFormatError(`a COPY field of length ${view.getInt32(field)}: expected 8 (not null)`)
      const i = this.filled
      const columns = this.block.columns
      const us = view.getInt32(at + 6) * TWO_32 + view.getUint32(at + 10)
      columns[0]![i] = us / 1000 + PG_EPOCH_MS
      for (let c = 1; c < FIELDS; c++) columns[c]![i] = view.getFloat64(at + 6 + c * 12, false)
      at += TUPLE_BYTES
      if (++this.filled === this.blockBars) {
        out.push(this.block.bytes)
        this.block = openBlock(this.blockBars)
        this.filled = 0
      }
    }
    if (this.ended && at < bytes.length) throw new CopyFormatError("bytes follow the COPY trailer")
    return at
  }
}

/** The blocks of the binary COPY `chunks` carry; a malformed COPY dies (the statement is wrong). */
export const copyBarBlocks = <E, R>(
  chunks: Stream.Stream<Uint8Array, E, R>,
  blockBars: number
): Stream.Stream<Uint8Array<ArrayBuffer>, E, R> =>
  Stream.suspend(() => {
    const decoder = new CopyBarDecoder(blockBars)
    return chunks.pipe(
      Stream.mapConcat((chunk) => decoder.push(chunk)),
      Stream.concat(
        Stream.fromEffect(Effect.sync(() => decoder.end())).pipe(
          Stream.filter((block): block is Uint8Array<ArrayBuffer> => block !== undefined)
        )
      )
    )
  })
