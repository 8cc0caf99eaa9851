/**
 * The binary COPY decoder on COPY output written here by the PostgreSQL manual's format: the
 * columns come out exactly, whatever the chunk boundaries, and a COPY that is cut short or holds
 * a NULL is refused rather than answered as fewer bars.
 */
import { describe, expect, it } from "@effect/vitest"
import { type BarColumns, barColumnsEnd, barColumnsHeader, decodeBarColumns } from "@quasar/domain"
import { Chunk, Effect, Either, Stream } from "effect"
import { CopyBarDecoder, CopyFormatError, copyBarBlocks } from "../../src/bars/copyBarBlocks"

const PG_EPOCH_MS = 946_684_800_000
const SIGNATURE = [0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00]

const columns = (n: number): BarColumns => {
  const ts = Float64Array.from({ length: n }, (_, i) => 1_700_000_000_000 + i * 60_000)
  const value = (k: number) =>
    Float64Array.from({ length: n }, (_, i) =>
      i % 5 === 0 ? [0.1 + 0.2, -1e-300, 1.7976931348623157e308, -0, 5e-324][(i + k) % 5]! : i * k + 0.25
    )
  return { ts, open: value(1), high: value(2), low: value(3), close: value(4), volume: value(5) }
}

/** `bars` as PostgreSQL writes them with `COPY (SELECT ts, open, …) TO STDOUT (FORMAT binary)`. */
const binaryCopy = (
  bars: BarColumns,
  options: { readonly nullAt?: number; readonly extension?: number } = {}
) => {
  const extension = options.extension ?? 0
  const n = bars.ts.length
  const bytes = new Uint8Array(19 + extension + n * 74 + 2)
  const view = new DataView(bytes.buffer)
  bytes.set(SIGNATURE, 0)
  view.setInt32(15, extension)
  let at = 19 + extension
  for (let i = 0; i < n; i++) {
    view.setInt16(at, 6)
    at += 2
    const us = (bars.ts[i]! - PG_EPOCH_MS) * 1000
    view.setInt32(at, i === options.nullAt ? -1 : 8)
    view.setBigInt64(at + 4, BigInt(us))
    at += 12
    for (const name of ["open", "high", "low", "close", "volume"] as const) {
      view.setInt32(at, 8)
      view.setFloat64(at + 4, bars[name][i]!)
      at += 12
    }
  }
  view.setInt16(at, -1)
  return bytes
}

const chunked = (bytes: Uint8Array, size: number) =>
  Array.from({ length: Math.ceil(bytes.length / size) }, (_, k) => bytes.subarray(k * size, (k + 1) * size))

/** The decoded blocks as one `GET /bars/columns` answer, decoded again. */
const answerOf = (blocks: ReadonlyArray<Uint8Array>) => {
  const parts = [barColumnsHeader(), ...blocks, barColumnsEnd()]
  const out = new Uint8Array(parts.reduce((size, p) => size + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return Either.getOrThrow(decodeBarColumns(out))
}

const decodeAll = (chunks: ReadonlyArray<Uint8Array>, blockBars: number) => {
  const decoder = new CopyBarDecoder(blockBars)
  const blocks = chunks.flatMap((chunk) => decoder.push(chunk))
  const last = decoder.end()
  return last === undefined ? blocks : [...blocks, last]
}

describe("copyBarBlocks", () => {
  it("decodes every bar exactly, whatever the chunk boundaries and block size", () => {
    const bars = columns(23)
    for (const extension of [0, 5, 300]) {
      const copy = binaryCopy(bars, { extension })
      for (const size of [1, 2, 7, 19, 73, 74, 75, 257, 500, copy.length])
        for (const blockBars of [1, 4, 23, 50]) {
          const blocks = decodeAll(chunked(copy, size), blockBars)
          expect(blocks.length).toBe(Math.ceil(23 / blockBars))
          expect(answerOf(blocks)).toEqual(bars)
        }
    }
  })

  it("answers no block for a COPY of no rows", () => {
    expect(decodeAll(chunked(binaryCopy(columns(0)), 3), 10)).toEqual([])
  })

  it("refuses a COPY cut short, a NULL field and a stream that is not a binary COPY", () => {
    const copy = binaryCopy(columns(3))
    expect(() => decodeAll([copy.subarray(0, copy.length - 2)], 10)).toThrow(/ended before its trailer/)
    expect(() => decodeAll([copy.subarray(0, copy.length - 40)], 10)).toThrow(CopyFormatError)
    expect(() => decodeAll([copy, new Uint8Array(1)], 10)).toThrow(/bytes follow the COPY trailer/)
    expect(() => decodeAll(chunked(new Uint8Array([...copy, 0, 0, 0]), 7), 10)).toThrow(/follow/)
    expect(() => decodeAll([binaryCopy(columns(3), { nullAt: 1 })], 10)).toThrow(/length -1/)
    expect(() => decodeAll([new TextEncoder().encode("1\t2\n".repeat(10))], 10)).toThrow(/PGCOPY/)
  })

  it.effect("streams blocks as the chunks arrive, and dies on a COPY cut short", () =>
    Effect.gen(function* () {
      const bars = columns(10)
      const copy = binaryCopy(bars)
      const blocks = yield* Stream.runCollect(copyBarBlocks(Stream.fromIterable(chunked(copy, 33)), 4))
      expect(Chunk.toReadonlyArray(blocks).map((b) => new DataView(b.buffer).getUint32(0, true))).toEqual([
        4, 4, 2
      ])
      expect(answerOf(Chunk.toReadonlyArray(blocks))).toEqual(bars)
      const cut = yield* Effect.exit(Stream.runCollect(copyBarBlocks(Stream.make(copy.subarray(0, 100)), 4)))
      expect(cut._tag === "Failure" && String(cut.cause)).toMatch(/ended before its trailer/)
    })
  )
})
