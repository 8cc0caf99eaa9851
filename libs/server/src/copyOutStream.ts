/**
 * pg-copy-streams' `COPY … TO STDOUT` stream with its message parser replaced. PostgreSQL sends
 * each row of a COPY in a CopyData message of its own; the library's parser takes every message
 * out as a Buffer of its own, through a list that reslices its array as it goes, and joins them
 * again: a million-row binary COPY cost the reader about a million Buffers and their garbage.
 * This parser walks the chunks the socket delivers and copies each message's payload straight
 * into one buffer per chunk, which it pushes: the same bytes in the same order, with no object
 * per row. Everything else (taking the connection over from pg and handing it back, errors,
 * the row count) is the library's, whose version is pinned for this reason.
 *
 * The protocol (PostgreSQL manual, "Message Formats"): a message is a type byte, an int32
 * length that counts itself but not the type byte, and the payload. During a COPY out: 'd'
 * CopyData (payload: output bytes), 'c' CopyDone, interspersed NoticeResponse ('N'),
 * ParameterStatus ('S') and NotificationResponse ('A'); an ErrorResponse ('E') ends it.
 */
import { Buffer } from "node:buffer"
import { to as copyTo } from "pg-copy-streams"

const COPY_DATA = 0x64 // 'd'
const ERROR_RESPONSE = 0x45 // 'E'
/** Messages a COPY's output may carry between its CopyData: skipped. */
const INTERSPERSED = new Set([0x48 /* 'H' CopyOutResponse */, 0x4e, 0x53, 0x41])
const HEADER_BYTES = 5

type CopyToStream = ReturnType<typeof copyTo>

/** The library's internals this parser takes part in (pg-copy-streams 7.0.0, copy-to.js). */
interface Internals {
  readonly _buffer: { push: (chunk: Buffer) => void }
  _detach: () => void
  _cleanup: () => void
}

const CopyToQueryStream = Object.getPrototypeOf(copyTo("")).constructor as new (text: string) => CopyToStream

class FastCopyToStream extends CopyToQueryStream {
  /** Bytes of a message header cut by the end of a chunk. */
  private readonly head = Buffer.alloc(HEADER_BYTES)
  private headBytes = 0
  /** The message being read: its type, payload bytes still to come, and whether it ends the COPY. */
  private type = 0
  private left = 0
  private ending = false

  // Called by the library for each chunk read from the connection; answers whether to read on.
  _parse(chunk: Buffer): boolean | undefined {
    const internals = this as unknown as Internals
    const out = Buffer.allocUnsafe(chunk.length)
    let filled = 0
    let at = 0
    let done = false
    while (at < chunk.length && !done) {
      if (this.left > 0) {
        const n = Math.min(this.left, chunk.length - at)
        if (this.type === COPY_DATA) filled += chunk.copy(out, filled, at, at + n)
        at += n
        this.left -= n
        done = this.left === 0 && this.ending
        continue
      }
      if (this.headBytes === 0 && chunk[at] === ERROR_RESPONSE) {
        // pg reads the error and fails the query, which errors this stream.
        internals._buffer.push(chunk.subarray(at))
        internals._detach()
        return undefined
      }
      if (this.headBytes === 0 && at + HEADER_BYTES <= chunk.length) {
        this.type = chunk[at]!
        this.left = chunk.readUInt32BE(at + 1) - 4
        at += HEADER_BYTES
      } else {
        while (this.headBytes < HEADER_BYTES && at < chunk.length) this.head[this.headBytes++] = chunk[at++]!
        if (this.headBytes < HEADER_BYTES) break
        this.type = this.head[0]!
        this.left = this.head.readUInt32BE(1) - 4
        this.headBytes = 0
      }
      // CopyDone (or anything else unexpected) ends the COPY once its payload is read.
      this.ending = this.type !== COPY_DATA && !INTERSPERSED.has(this.type)
      done = this.ending && this.left === 0
    }
    const drained = filled === 0 ? true : this.push(out.subarray(0, filled))
    if (done) {
      // CopyDone and what follows it (CommandComplete, ReadyForQuery) are pg's to read.
      if (at < chunk.length) internals._buffer.push(chunk.subarray(at))
      internals._detach()
      this.push(null)
      internals._cleanup()
    }
    return drained
  }
}

/** A `COPY … TO STDOUT` as a Readable of its output bytes, for `client.query`. */
export const copyOutStream = (statement: string): CopyToStream => new FastCopyToStream(statement)
