/**
 * The COPY output parser against the protocol's bytes, cut at every position: the output is the
 * CopyData payloads joined, whatever the chunks; interspersed messages are skipped; what follows
 * CopyDone, and an ErrorResponse with all after it, go back to pg untouched.
 */
import { Buffer } from "node:buffer"
import { describe, expect, it } from "@effect/vitest"
import { copyOutStream } from "../src/copyOutStream"

const message = (type: string, payload: Buffer) => {
  const head = Buffer.alloc(5)
  head.write(type, 0, "latin1")
  head.writeUInt32BE(payload.length + 4, 1)
  return Buffer.concat([head, payload])
}

const rows = Array.from({ length: 40 }, (_, i) => Buffer.from(`row ${i}\n`))

/** Feeds `bytes` to a parser in `cuts` pieces; what it pushed, and what pg gets (handed back, then read). */
const parse = (bytes: Buffer, cuts: ReadonlyArray<number>) => {
  const stream = copyOutStream("COPY t TO STDOUT") as unknown as {
    _parse: (chunk: Buffer) => boolean | undefined
    push: (chunk: Buffer | null) => boolean
    _detach: () => void
    _cleanup: () => void
    _buffer: { size: number; take: (n: number) => Buffer }
  }
  const pushed: Array<Buffer> = []
  let ended = false
  let handedBack: Buffer | undefined
  stream.push = (chunk) => {
    if (chunk === null) ended = true
    else pushed.push(Buffer.from(chunk))
    return true
  }
  stream._detach = () => {
    handedBack = stream._buffer.take(stream._buffer.size)
  }
  stream._cleanup = () => undefined
  let from = 0
  for (const to of [...cuts, bytes.length]) {
    // Once handed back, the connection's next bytes go to pg straight.
    if (handedBack !== undefined) handedBack = Buffer.concat([handedBack, bytes.subarray(from, to)])
    else if (to > from) stream._parse(bytes.subarray(from, to))
    from = to
  }
  return {
    output: Buffer.concat(pushed).toString("latin1"),
    ended,
    handedBack: handedBack?.toString("latin1")
  }
}

describe("copyOutStream", () => {
  const after = Buffer.concat([message("C", Buffer.from("COPY 40\0")), message("Z", Buffer.from("I"))])
  const copy = Buffer.concat([
    message("H", Buffer.from([0, 0, 0])),
    ...rows.slice(0, 20).map((r) => message("d", r)),
    message("N", Buffer.from("a notice")),
    ...rows.slice(20).map((r) => message("d", r)),
    message("c", Buffer.alloc(0)),
    after
  ])

  it("gives the CopyData payloads joined and hands back what follows CopyDone, cut anywhere", () => {
    const whole = rows.map((r) => r.toString("latin1")).join("")
    for (let a = 0; a <= copy.length; a++)
      for (const b of [a, a + 1, a + 3, a + 7]) {
        const got = parse(copy, [a, Math.min(b, copy.length)])
        expect(got.output).toBe(whole)
        expect(got.ended).toBe(true)
        expect(got.handedBack ?? "").toBe(after.toString("latin1"))
      }
  })

  it("hands an ErrorResponse and all after it back to pg, the output so far kept", () => {
    const error = Buffer.concat([message("E", Buffer.from("SERROR\0")), message("Z", Buffer.from("I"))])
    const failing = Buffer.concat([
      message("H", Buffer.from([0, 0, 0])),
      ...rows.slice(0, 5).map((r) => message("d", r)),
      error
    ])
    for (let a = 0; a <= failing.length; a++) {
      const got = parse(failing, [a])
      expect(got.ended).toBe(false)
      expect(got.handedBack).toBe(error.toString("latin1"))
      expect(
        rows
          .map((r) => r.toString("latin1"))
          .join("")
          .startsWith(got.output)
      ).toBe(true)
    }
  })
})
