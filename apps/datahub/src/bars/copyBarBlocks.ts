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
    const bytes = this.joined(chunk)
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    const out: Array<Uint8Array<ArrayBuffer>> = []
    let at = this.headerRead ? 0 : this.header(bytes, view)
    if (at < 0) {
      this.carry = bytes
      return out
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
    this.carry = at < bytes.length ? bytes.slice(at) : undefined
    return out
  }

  /** The last block (undefined if it holds no bar); fails if the COPY stopped before its trailer. */
  end(): Uint8Array<ArrayBuffer> | undefined {
    if (!this.ended) throw new CopyFormatError("the COPY ended before its trailer")
    if (this.filled === 0) return undefined
    return this.filled === this.blockBars ? this.block.bytes : shrink(this.block, this.filled)
  }

  /** The bytes left over from the last chunk (at most part of a tuple), then `chunk`. */
  private joined(chunk: Uint8Array): Uint8Array {
    const carry = this.carry
    if (carry === undefined) return chunk
    const bytes = new Uint8Array(carry.length + chunk.length)
    bytes.set(carry, 0)
    bytes.set(chunk, carry.length)
    return bytes
  }

  /** Where the tuples start, or -1 if `bytes` do not hold the whole header yet. */
  private header(bytes: Uint8Array, view: DataView): number {
    if (bytes.length < HEADER_BYTES) return -1
    if (SIGNATURE.some((b, i) => bytes[i] !== b))
      throw new CopyFormatError("not a binary COPY: the PGCOPY signature is missing")
    const start = HEADER_BYTES + view.getInt32(SIGNATURE.length + 4)
    if (bytes.length < start) return -1
    this.headerRead = true
    return start
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
