/**
 * The few pieces of the PostgreSQL wire protocol (v3) that the session front speaks itself:
 * framing of what clients send, the backend messages of the startup handshake and errors, and a
 * scanner that follows PGlite's output to see each ReadyForQuery and its transaction status.
 */

export const PROTOCOL_3_0 = 196608
export const SSL_REQUEST = 80877103
export const GSSENC_REQUEST = 80877104
export const CANCEL_REQUEST = 80877102

/** Before authentication a client may send only a short startup packet and short SASL messages. */
export const MAX_UNAUTHENTICATED_LENGTH = 10_000
/** PostgreSQL's own limit for a single message (MaxAllocSize). */
export const MAX_MESSAGE_LENGTH = 0x3fffffff

/** What a client sent: a startup-phase packet (no type byte) or a typed message. */
export type Frame =
  | { readonly kind: "startup"; readonly code: number; readonly bytes: Buffer }
  | { readonly kind: "message"; readonly type: string; readonly bytes: Buffer }

export class FramingError extends Error {}

/**
 * Cuts complete frames off the front of `buffer`. `startup` says whether the next frame is a
 * startup-phase packet (length + code, no type byte). Returns the frames and what remains.
 */
export const takeFrames = (
  buffer: Buffer,
  startup: () => boolean,
  maxLength: () => number
): { readonly frames: ReadonlyArray<Frame>; readonly rest: Buffer } => {
  const frames: Array<Frame> = []
  let offset = 0
  for (;;) {
    if (startup()) {
      if (buffer.length - offset < 8) break
      const length = buffer.readInt32BE(offset)
      if (length < 8 || length > maxLength())
        throw new FramingError(`invalid startup packet length ${length}`)
      if (buffer.length - offset < length) break
      const bytes = buffer.subarray(offset, offset + length)
      frames.push({ kind: "startup", code: bytes.readInt32BE(4), bytes })
      offset += length
      // The caller decides after each startup packet whether the next is one too.
      break
    }
    if (buffer.length - offset < 5) break
    const length = buffer.readInt32BE(offset + 1)
    if (length < 4 || length > maxLength()) {
      throw new FramingError(
        `invalid length ${length} for message type ${String.fromCharCode(buffer[offset]!)}`
      )
    }
    if (buffer.length - offset < length + 1) break
    const bytes = buffer.subarray(offset, offset + length + 1)
    frames.push({ kind: "message", type: String.fromCharCode(bytes[0]!), bytes })
    offset += length + 1
  }
  return { frames, rest: offset === 0 ? buffer : Buffer.from(buffer.subarray(offset)) }
}

/** Key/value pairs of a StartupMessage. */
export const startupParameters = (packet: Buffer): ReadonlyMap<string, string> => {
  const parts = packet.subarray(8).toString("utf8").split("\0")
  const parameters = new Map<string, string>()
  for (let i = 0; i + 1 < parts.length && parts[i] !== ""; i += 2) parameters.set(parts[i]!, parts[i + 1]!)
  return parameters
}

export const message = (type: string, body: Buffer): Buffer => {
  const out = Buffer.alloc(5 + body.length)
  out.write(type, 0, "latin1")
  out.writeInt32BE(4 + body.length, 1)
  body.copy(out, 5)
  return out
}

const int32 = (n: number) => {
  const b = Buffer.alloc(4)
  b.writeInt32BE(n)
  return b
}

const cString = (s: string) => Buffer.from(`${s}\0`, "utf8")

export const authentication = (code: number, data: Buffer = Buffer.alloc(0)) =>
  message("R", Buffer.concat([int32(code), data]))

export const AUTH_OK = 0
export const AUTH_SASL = 10
export const AUTH_SASL_CONTINUE = 11
export const AUTH_SASL_FINAL = 12

export const backendKeyData = (processId: number, secret: number) =>
  message("K", Buffer.concat([int32(processId), int32(secret)]))

export const readyForQuery = (status: "I" | "T" | "E") => message("Z", Buffer.from(status, "latin1"))

export const query = (sql: string) => message("Q", cString(sql))

export const SYNC = message("S", Buffer.alloc(0))

export interface ErrorFields {
  readonly severity: "ERROR" | "FATAL"
  readonly code: string
  readonly message: string
  readonly detail?: string
  readonly hint?: string
}

export const errorResponse = (e: ErrorFields) =>
  message(
    "E",
    Buffer.concat([
      cString(`S${e.severity}`),
      cString(`V${e.severity}`),
      cString(`C${e.code}`),
      cString(`M${e.message}`),
      ...(e.detail ? [cString(`D${e.detail}`)] : []),
      ...(e.hint ? [cString(`H${e.hint}`)] : []),
      Buffer.from([0])
    ])
  )

/** The ParameterStatus ('S') messages found in a run of backend messages. */
export const parameterStatuses = (backend: Uint8Array): Buffer => {
  const bytes = Buffer.from(backend)
  const kept: Array<Buffer> = []
  let offset = 0
  while (offset + 5 <= bytes.length) {
    const length = bytes.readInt32BE(offset + 1)
    if (bytes[offset] === 0x53) kept.push(bytes.subarray(offset, offset + 1 + length))
    offset += 1 + length
  }
  return Buffer.concat(kept)
}

/**
 * Follows a stream of backend messages that arrives in arbitrary chunks and reports the
 * transaction status of every ReadyForQuery ('I' idle, 'T' in a transaction, 'E' in a failed one).
 */
export class ReadyScanner {
  private header: Buffer = Buffer.alloc(0)
  private skip = 0
  private pendingStatus = false

  constructor(private readonly onReady: (status: string) => void) {}

  push(chunk: Uint8Array): void {
    let offset = 0
    while (offset < chunk.length) {
      if (this.skip > 0) {
        if (this.pendingStatus) {
          this.pendingStatus = false
          this.onReady(String.fromCharCode(chunk[offset]!))
        }
        const n = Math.min(this.skip, chunk.length - offset)
        this.skip -= n
        offset += n
        continue
      }
      const need = 5 - this.header.length
      const take = chunk.subarray(offset, offset + need)
      this.header = Buffer.concat([this.header, take])
      offset += take.length
      if (this.header.length < 5) break
      this.skip = this.header.readInt32BE(1) - 4
      this.pendingStatus = this.header[0] === 0x5a && this.skip > 0
      this.header = Buffer.alloc(0)
    }
  }
}
