/**
 * The `BarColumns` format (see BarColumns.ts) decoded as it arrives, chunk by chunk: each block
 * gets one buffer of its own, allocated when its head says how many bars it holds, and the
 * chunks' bytes are copied straight into it. An answer of a million bars costs its 48 MB once,
 * where reading it whole first holds the chunks, their join and the decoded blocks at the same
 * time. Gives the blocks `decodeBarColumnBlocks` gives for the same bytes. Runtime-neutral.
 */
import { Either } from "effect"
import {
  BAR_COLUMNS_BAR_BYTES,
  BAR_COLUMNS_BLOCK_HEAD_BYTES,
  BAR_COLUMNS_HEADER_BYTES,
  type BarColumnBlocks,
  type BarColumns,
  barColumnsHeaderProblem,
  blockColumnsAt
} from "./BarColumns"

/** A block being filled: its bars' bytes (none when they are only checked) and how many have arrived. */
interface Filling {
  readonly n: number
  readonly size: number
  readonly bytes: Uint8Array<ArrayBuffer> | undefined
  filled: number
}

export interface BarColumnsDecoderOptions {
  /**
   * false: only check the answer's framing and count its bars, keeping no block (for a host that
   * passes the bytes on as they are and needs to know the answer was whole).
   */
  readonly keep?: boolean
}

export const makeBarColumnsDecoder = (options: BarColumnsDecoderOptions = {}) => {
  const keep = options.keep ?? true
  let bars = 0
  const blocks: Array<BarColumns> = []
  /** Bytes of a header or a block head not yet complete. */
  let head = new Uint8Array(0)
  let headerDone = false
  let block: Filling | undefined
  let ended = false
  let problem: string | undefined

  /** The header's or a block head's bytes, once `size` of them are in. */
  const takeHead = (chunk: Uint8Array, at: number, size: number): [Uint8Array | undefined, number] => {
    const need = size - head.length
    const part = chunk.subarray(at, at + need)
    const joined = new Uint8Array(head.length + part.length)
    joined.set(head, 0)
    joined.set(part, head.length)
    if (joined.length < size) {
      head = joined
      return [undefined, at + part.length]
    }
    head = new Uint8Array(0)
    return [joined, at + part.length]
  }

  return {
    /** Takes the next chunk of the answer. */
    push: (chunk: Uint8Array): void => {
      let at = 0
      while (problem === undefined && at < chunk.length) {
        if (ended) {
          problem = "bar columns: bytes follow the end block"
          return
        }
        if (!headerDone) {
          const [header, next] = takeHead(chunk, at, BAR_COLUMNS_HEADER_BYTES)
          at = next
          if (header === undefined) return
          problem = barColumnsHeaderProblem(header)
          headerDone = true
          continue
        }
        if (block === undefined) {
          const [blockHead, next] = takeHead(chunk, at, BAR_COLUMNS_BLOCK_HEAD_BYTES)
          at = next
          if (blockHead === undefined) return
          const n = new DataView(blockHead.buffer).getUint32(0, true)
          if (n === 0) ended = true
          else {
            const size = n * BAR_COLUMNS_BAR_BYTES
            block = { n, size, bytes: keep ? new Uint8Array(size) : undefined, filled: 0 }
          }
          continue
        }
        const part = chunk.subarray(at, at + block.size - block.filled)
        block.bytes?.set(part, block.filled)
        block.filled += part.length
        at += part.length
        if (block.filled === block.size) {
          if (block.bytes !== undefined) blocks.push(blockColumnsAt(block.bytes, 0, block.n))
          bars += block.n
          block = undefined
        }
      }
    },
    /** The blocks completed since the last `take` (they are not in `end`'s answer then). */
    take: (): Array<BarColumns> => blocks.splice(0, blocks.length),
    /** Bars in the blocks completed so far. */
    bars: (): number => bars,
    /** The blocks of a complete answer (but those taken), or what is wrong with it. */
    end: (): Either.Either<BarColumnBlocks, string> => {
      if (problem !== undefined) return Either.left(problem)
      if (!headerDone) return Either.left("not bar columns: the answer does not start with the QBCS header")
      if (block !== undefined)
        return Either.left(`bar columns cut short: a block of ${block.n} bars is incomplete`)
      if (!ended) return Either.left("bar columns cut short: the answer ends before its end block")
      return Either.right(blocks)
    }
  }
}
