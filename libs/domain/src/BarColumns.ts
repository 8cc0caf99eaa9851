/**
 * One series of bars as binary columns: what `GET /bars/columns` answers (application/octet-stream)
 * and what a backtest reads. A million bars are 48 MB of doubles here, against ~150 MB of JSON
 * that would be parsed into a million objects only to be copied into typed arrays again.
 *
 * The format (every number little-endian; each column starts 8-byte aligned):
 *
 *     header  "QBCS" (4 bytes ASCII), version u16 = 1, column count u16 = 6
 *     block*  bar count n u32, reserved u32 = 0, then ts[n] open[n] high[n] low[n] close[n]
 *             volume[n] as float64 (ts: bar open time, UTC epoch ms), oldest bar first
 *     end     a block with n = 0, and nothing after it
 *
 * Blocks let the server send bars while it reads them; the end block tells a complete answer
 * from one cut short (a server that failed mid-way stops without it). Runtime-neutral: only
 * ArrayBuffer, DataView and typed arrays, and no Effect: a sandbox child reads bars with this file
 * alone (the decoders that answer with an Either and the schemas are in BarColumnsSchema.ts).
 */
/** One symbol's bars as columns, ascending by `ts` (bar open time, UTC epoch ms). */
export interface BarColumns {
  readonly ts: Float64Array<ArrayBuffer>
  readonly open: Float64Array<ArrayBuffer>
  readonly high: Float64Array<ArrayBuffer>
  readonly low: Float64Array<ArrayBuffer>
  readonly close: Float64Array<ArrayBuffer>
  readonly volume: Float64Array<ArrayBuffer>
}

export const BAR_COLUMN_NAMES = ["ts", "open", "high", "low", "close", "volume"] as const
export const BAR_COLUMNS_CONTENT_TYPE = "application/octet-stream"
export const BAR_COLUMNS_VERSION = 1
/** Bytes of the header, and of each block's head. */
export const BAR_COLUMNS_HEADER_BYTES = 8
export const BAR_COLUMNS_BLOCK_HEAD_BYTES = 8
/** Bytes per bar in a block: six doubles. */
export const BAR_COLUMNS_BAR_BYTES = 8 * BAR_COLUMN_NAMES.length

const MAGIC = [0x51, 0x42, 0x43, 0x53] // "QBCS"
const COLUMNS = BAR_COLUMN_NAMES.length
const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

export const emptyBarColumns = (n = 0): BarColumns => ({
  ts: new Float64Array(n),
  open: new Float64Array(n),
  high: new Float64Array(n),
  low: new Float64Array(n),
  close: new Float64Array(n),
  volume: new Float64Array(n)
})

/** The header every answer starts with. */
export const barColumnsHeader = (): Uint8Array<ArrayBuffer> => {
  const out = new Uint8Array(BAR_COLUMNS_HEADER_BYTES)
  out.set(MAGIC, 0)
  const view = new DataView(out.buffer)
  view.setUint16(4, BAR_COLUMNS_VERSION, true)
  view.setUint16(6, COLUMNS, true)
  return out
}

/** The end block (n = 0) every complete answer ends with. */
export const barColumnsEnd = (): Uint8Array<ArrayBuffer> => new Uint8Array(BAR_COLUMNS_BLOCK_HEAD_BYTES)

/**
 * An empty block of `n` bars and a writer of its values: `set(i, ts, open, high, low, close,
 * volume)` fills bar `i`. The server fills a block straight from what the database sends.
 */
export const barColumnsBlock = (n: number) => {
  const bytes = new Uint8Array(BAR_COLUMNS_BLOCK_HEAD_BYTES + n * BAR_COLUMNS_BAR_BYTES)
  const view = new DataView(bytes.buffer)
  view.setUint32(0, n, true)
  const at = (column: number, i: number) => BAR_COLUMNS_BLOCK_HEAD_BYTES + (column * n + i) * 8
  const set = (
    i: number,
    ts: number,
    open: number,
    high: number,
    low: number,
    close: number,
    volume: number
  ) => {
    view.setFloat64(at(0, i), ts, true)
    view.setFloat64(at(1, i), open, true)
    view.setFloat64(at(2, i), high, true)
    view.setFloat64(at(3, i), low, true)
    view.setFloat64(at(4, i), close, true)
    view.setFloat64(at(5, i), volume, true)
  }
  return { bytes, set }
}

/** A whole answer in one piece: header, one block holding every bar (none if empty), end. */
export const encodeBarColumns = (columns: BarColumns): Uint8Array<ArrayBuffer> =>
  encodeBarColumnBlocks([columns])

/** A whole answer: header, a block per non-empty one of `blocks`, end. */
export const encodeBarColumnBlocks = (blocks: BarColumnBlocks): Uint8Array<ArrayBuffer> => {
  const parts = [barColumnsHeader()]
  for (const columns of blocks) {
    const n = columns.ts.length
    if (n === 0) continue
    const block = barColumnsBlock(n)
    for (let i = 0; i < n; i++)
      block.set(
        i,
        columns.ts[i]!,
        columns.open[i]!,
        columns.high[i]!,
        columns.low[i]!,
        columns.close[i]!,
        columns.volume[i]!
      )
    parts.push(block.bytes)
  }
  parts.push(barColumnsEnd())
  const out = new Uint8Array(parts.reduce((size, p) => size + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/**
 * The encoding of `blocks` as one block (header, one block of every bar, end), as a list of parts
 * to write one after another: on a little-endian host the columns are views over the blocks'
 * own arrays, so a vectored write sends a million bars without copying them. The parts hold the
 * bytes `encodeBarColumns(concatBarColumns(blocks))` gives.
 */
export const barColumnsParts = (blocks: BarColumnBlocks): Array<Uint8Array<ArrayBuffer>> => {
  if (!littleEndianHost) return [encodeBarColumns(concatBarColumns(blocks))]
  const n = barCount(blocks)
  if (n === 0) return [barColumnsHeader(), barColumnsEnd()]
  const head = new Uint8Array(BAR_COLUMNS_BLOCK_HEAD_BYTES)
  new DataView(head.buffer).setUint32(0, n, true)
  const parts: Array<Uint8Array<ArrayBuffer>> = [barColumnsHeader(), head]
  for (const name of BAR_COLUMN_NAMES)
    for (const block of blocks)
      if (block[name].length > 0)
        parts.push(new Uint8Array(block[name].buffer, block[name].byteOffset, block[name].byteLength))
  parts.push(barColumnsEnd())
  return parts
}

/**
 * A series' bars as the blocks an answer brings them in, oldest first. Decoded, each block's
 * columns are views into the answer's bytes: a million bars cost the 48 MB that arrived, not a
 * second copy, and whoever hands them on block by block (a backtest's sandbox) never needs them
 * joined.
 */
export type BarColumnBlocks = ReadonlyArray<BarColumns>

/** `n` doubles at `offset` of `bytes`: a view where the host's byte order and the alignment allow, else a copy. */
const columnAt = (bytes: Uint8Array, offset: number, n: number): Float64Array<ArrayBuffer> => {
  const start = bytes.byteOffset + offset
  if (littleEndianHost && start % 8 === 0 && bytes.buffer instanceof ArrayBuffer)
    return new Float64Array(bytes.buffer, start, n)
  const view = new DataView(bytes.buffer, start, n * 8)
  const out = new Float64Array(n)
  for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true)
  return out
}

/** The columns of a block of `n` bars whose values start at `at` of `bytes` (views where `columnAt` allows). */
export const blockColumnsAt = (bytes: Uint8Array, at: number, n: number): BarColumns => {
  const column = (c: number) => columnAt(bytes, at + c * n * 8, n)
  return {
    ts: column(0),
    open: column(1),
    high: column(2),
    low: column(3),
    close: column(4),
    volume: column(5)
  }
}

/** What is wrong with the header `bytes` start with, if anything. */
export const barColumnsHeaderProblem = (bytes: Uint8Array): string | undefined => {
  if (bytes.length < BAR_COLUMNS_HEADER_BYTES || MAGIC.some((b, i) => bytes[i] !== b))
    return "not bar columns: the answer does not start with the QBCS header"
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const version = view.getUint16(4, true)
  if (version !== BAR_COLUMNS_VERSION)
    return `bar columns version ${version}: this client reads version ${BAR_COLUMNS_VERSION}`
  if (view.getUint16(6, true) !== COLUMNS)
    return `bar columns with ${view.getUint16(6, true)} columns: version 1 has ${COLUMNS}`
  return undefined
}

/**
 * `column`'s values, just read as the format's little-endian bytes, in the host's byte order
 * (nothing to do on a little-endian host).
 */
export const fromLittleEndian = (column: Float64Array): void => {
  if (littleEndianHost) return
  const view = new DataView(column.buffer, column.byteOffset, column.byteLength)
  for (let i = 0; i < column.length; i++) column[i] = view.getFloat64(i * 8, true)
}

/** Bars in all the blocks. */
export const barCount = (blocks: BarColumnBlocks): number => blocks.reduce((n, b) => n + b.ts.length, 0)

/** The blocks' bars in one set of columns: the block itself when there is one, else a copy. */
export const concatBarColumns = (blocks: BarColumnBlocks): BarColumns => {
  if (blocks.length === 1) return blocks[0]!
  const out = emptyBarColumns(barCount(blocks))
  let into = 0
  for (const block of blocks) {
    for (const name of BAR_COLUMN_NAMES) out[name].set(block[name], into)
    into += block.ts.length
  }
  return out
}
