/**
 * Many WebSocket text messages as one buffer of unmasked server frames (RFC 6455 §5.2), for one
 * socket write. The `/live` sender writes a client's whole batch this way instead of one `ws`
 * send per message (each of which allocates a header and a payload buffer and queues two
 * writes). Only valid on a connection without extensions (no permessage-deflate): the caller
 * checks that.
 */
const FIN_TEXT = 0x81
const MAX_HEADER = 10
const encoder = new TextEncoder()

export const textFrames = (texts: ReadonlyArray<string>): Uint8Array => {
  let bound = 0
  for (const t of texts) bound += MAX_HEADER + 3 * t.length
  const out = new Uint8Array(bound)
  const view = new DataView(out.buffer)
  let at = 0
  for (const text of texts) {
    // Encoded after the largest header, then moved up against the header its length needs.
    const n = encoder.encodeInto(text, out.subarray(at + MAX_HEADER)).written
    const header = n < 126 ? 2 : n < 65_536 ? 4 : 10
    out.copyWithin(at + header, at + MAX_HEADER, at + MAX_HEADER + n)
    out[at] = FIN_TEXT
    if (header === 2) out[at + 1] = n
    else if (header === 4) {
      out[at + 1] = 126
      view.setUint16(at + 2, n)
    } else {
      out[at + 1] = 127
      view.setBigUint64(at + 2, BigInt(n))
    }
    at += header + n
  }
  return out.subarray(0, at)
}
