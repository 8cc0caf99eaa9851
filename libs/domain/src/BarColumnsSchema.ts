/**
 * The bar columns format (BarColumns.ts) decoded whole, with what is wrong as an Either, and as
 * schemas: `BarColumnBlocksFromBytes` is the body of `GET /bars/columns` in `DataHubApi`.
 */
import { Either, ParseResult, Schema } from "effect"
import {
  BAR_COLUMN_NAMES,
  BAR_COLUMNS_BAR_BYTES,
  BAR_COLUMNS_BLOCK_HEAD_BYTES,
  BAR_COLUMNS_HEADER_BYTES,
  type BarColumnBlocks,
  type BarColumns,
  barColumnsHeaderProblem,
  blockColumnsAt,
  concatBarColumns,
  encodeBarColumnBlocks
} from "./BarColumns"

/** The blocks `bytes` hold, as views into them, or what is wrong with them. */
export const decodeBarColumnBlocks = (bytes: Uint8Array): Either.Either<BarColumnBlocks, string> => {
  const problem = barColumnsHeaderProblem(bytes)
  if (problem !== undefined) return Either.left(problem)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const blocks: Array<BarColumns> = []
  let at = BAR_COLUMNS_HEADER_BYTES
  for (;;) {
    if (at + BAR_COLUMNS_BLOCK_HEAD_BYTES > bytes.length)
      return Either.left("bar columns cut short: the answer ends before its end block")
    const n = view.getUint32(at, true)
    at += BAR_COLUMNS_BLOCK_HEAD_BYTES
    if (n === 0) break
    if (at + n * BAR_COLUMNS_BAR_BYTES > bytes.length)
      return Either.left(`bar columns cut short: a block of ${n} bars is incomplete`)
    blocks.push(blockColumnsAt(bytes, at, n))
    at += n * BAR_COLUMNS_BAR_BYTES
  }
  if (at !== bytes.length) return Either.left("bar columns: bytes follow the end block")
  return Either.right(blocks)
}

/** The columns `bytes` hold, in one piece, or what is wrong with them. */
export const decodeBarColumns = (bytes: Uint8Array): Either.Either<BarColumns, string> =>
  Either.map(decodeBarColumnBlocks(bytes), concatBarColumns)

const isFloat64Array = (u: unknown): u is Float64Array<ArrayBuffer> => u instanceof Float64Array

/** `BarColumns` in memory: six Float64Arrays of one length. */
export const BarColumnsFromSelf = Schema.declare(
  (u: unknown): u is BarColumns => {
    if (typeof u !== "object" || u === null) return false
    const c = u as Record<string, unknown>
    const n = isFloat64Array(c.ts) ? c.ts.length : -1
    return BAR_COLUMN_NAMES.every((name) => {
      const column = c[name]
      return isFloat64Array(column) && column.length === n
    })
  },
  { identifier: "BarColumns", description: "six Float64Array columns of one length" }
)

/** The binary answer of `GET /bars/columns`, decoded into its blocks (see the format above). */
export const BarColumnBlocksFromBytes = Schema.transformOrFail(
  Schema.Uint8ArrayFromSelf,
  Schema.Array(BarColumnsFromSelf),
  {
    strict: true,
    decode: (bytes, _, ast) =>
      Either.match(decodeBarColumnBlocks(bytes), {
        onLeft: (problem) => ParseResult.fail(new ParseResult.Type(ast, bytes, problem)),
        onRight: ParseResult.succeed
      }),
    encode: (blocks) => ParseResult.succeed(encodeBarColumnBlocks(blocks))
  }
).annotations({
  identifier: "BarColumnsBinary",
  description:
    'application/octet-stream: header "QBCS", version u16 1, column count u16 6; blocks of (bar count u32, ' +
    "reserved u32, then ts, open, high, low, close, volume as float64 columns, ts in UTC epoch ms); " +
    "a block of 0 bars ends the answer. Little-endian."
})
