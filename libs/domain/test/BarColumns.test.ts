import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import {
  BarColumnBlocksFromBytes,
  type BarColumns,
  barColumnsBlock,
  barColumnsEnd,
  barColumnsHeader,
  barColumnsParts,
  barCount,
  concatBarColumns,
  decodeBarColumnBlocks,
  decodeBarColumns,
  emptyBarColumns,
  encodeBarColumns
} from "../src/index"

const two: BarColumns = {
  ts: Float64Array.of(1_704_067_200_000, 1_704_067_260_000),
  open: Float64Array.of(100, 101),
  high: Float64Array.of(102, 103),
  low: Float64Array.of(99, 100),
  close: Float64Array.of(101.5, 102.5),
  volume: Float64Array.of(10, 0.25)
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex")

const concat = (...parts: ReadonlyArray<Uint8Array>) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

const decoded = (bytes: Uint8Array) => Either.getOrThrow(decodeBarColumns(bytes))
const problem = (bytes: Uint8Array) => Either.flip(decodeBarColumns(bytes)).pipe(Either.getOrThrow)

describe("BarColumns wire format", () => {
  it("encodes two bars to the golden bytes", () => {
    // Header "QBCS" v1 with 6 columns; one block of 2 bars (count, reserved); the end block.
    const golden =
      "51424353" +
      "0100" +
      "0600" +
      "02000000" +
      "00000000" +
      // ts, open, high, low, close, volume: two little-endian doubles each.
      "0000401f25cc78420000e62d25cc7842" +
      "00000000000059400000000000405940" +
      "00000000008059400000000000c05940" +
      "0000000000c058400000000000005940" +
      "00000000006059400000000000a05940" +
      "0000000000002440000000000000d03f" +
      "0000000000000000"
    expect(hex(encodeBarColumns(two))).toBe(golden)
    expect(decoded(encodeBarColumns(two))).toEqual(two)
  })

  it("encodes no bars as the header and the end block", () => {
    expect(hex(encodeBarColumns(emptyBarColumns()))).toBe(`51424353010006000000000000000000`)
    expect(decoded(encodeBarColumns(emptyBarColumns()))).toEqual(emptyBarColumns())
  })

  it("joins blocks in order, aligned or not", () => {
    const a = barColumnsBlock(1)
    a.set(0, 1, 2, 3, 4, 5, 6)
    const b = barColumnsBlock(2)
    b.set(0, 7, 8, 9, 10, 11, 12)
    b.set(1, 13, 14, 15, 16, 17, 18)
    const bytes = concat(barColumnsHeader(), a.bytes, b.bytes, barColumnsEnd())
    const expected = {
      ts: Float64Array.of(1, 7, 13),
      open: Float64Array.of(2, 8, 14),
      high: Float64Array.of(3, 9, 15),
      low: Float64Array.of(4, 10, 16),
      close: Float64Array.of(5, 11, 17),
      volume: Float64Array.of(6, 12, 18)
    }
    expect(decoded(bytes)).toEqual(expected)
    // The same bytes at an odd offset of a larger buffer (no typed-array view is possible there).
    const shifted = concat(Uint8Array.of(0xff), bytes).subarray(1)
    expect(decoded(shifted)).toEqual(expected)
  })

  it("names what is wrong with bytes that are not a complete answer", () => {
    const whole = encodeBarColumns(two)
    expect(problem(new Uint8Array(0))).toMatch(/QBCS header/)
    expect(problem(whole.slice(0, whole.length - 8))).toMatch(/cut short/)
    expect(problem(whole.slice(0, 40))).toMatch(/block of 2 bars is incomplete/)
    expect(problem(concat(whole, Uint8Array.of(0)))).toMatch(/bytes follow the end block/)
    const v2 = whole.slice()
    v2[4] = 2
    expect(problem(v2)).toMatch(/version 2/)
  })

  it("decodes blocks as views into the answer's bytes, not copies", () => {
    const a = barColumnsBlock(1)
    a.set(0, 1, 2, 3, 4, 5, 6)
    const b = barColumnsBlock(2)
    b.set(0, 7, 8, 9, 10, 11, 12)
    b.set(1, 13, 14, 15, 16, 17, 18)
    const bytes = concat(barColumnsHeader(), a.bytes, b.bytes, barColumnsEnd())
    const blocks = Either.getOrThrow(decodeBarColumnBlocks(bytes))
    expect(blocks.map((block) => Array.from(block.close))).toEqual([[5], [11, 17]])
    expect(blocks.every((block) => block.ts.buffer === bytes.buffer)).toBe(true)
    expect(barCount(blocks)).toBe(3)
    expect(concatBarColumns(blocks).volume).toEqual(Float64Array.of(6, 12, 18))
    // Unaligned bytes decode the same, into copies.
    const shifted = concat(Uint8Array.of(0xff), bytes).subarray(1)
    const copied = Either.getOrThrow(decodeBarColumnBlocks(shifted))
    expect(copied).toEqual(blocks)
    expect(copied[0]!.ts.buffer).not.toBe(shifted.buffer)
  })

  it("is the schema the derived client decodes with", () => {
    const bytes = encodeBarColumns(two)
    expect(Schema.decodeSync(BarColumnBlocksFromBytes)(bytes)).toEqual([two])
    expect(Schema.encodeSync(BarColumnBlocksFromBytes)([two])).toEqual(bytes)
    expect(Schema.encodeSync(BarColumnBlocksFromBytes)([two, emptyBarColumns()])).toEqual(bytes)
    expect(() => Schema.decodeSync(BarColumnBlocksFromBytes)(bytes.slice(0, 20))).toThrow(/cut short/)
  })

  it("writes blocks as one block whose parts are views over their columns", () => {
    const three: BarColumns = {
      ts: Float64Array.of(1, 2, 3),
      open: Float64Array.of(4, 5, 6),
      high: Float64Array.of(7, 8, 9),
      low: Float64Array.of(1, 2, 3),
      close: Float64Array.of(5, 11, 17),
      volume: Float64Array.of(6, 12, 18)
    }
    const blocks = [three, emptyBarColumns(), two]
    const parts = barColumnsParts(blocks)
    expect(hex(concat(...parts))).toBe(hex(encodeBarColumns(concatBarColumns(blocks))))
    expect(decodeBarColumnBlocks(concat(...parts)).pipe(Either.getOrThrow)).toHaveLength(1)
    expect(parts.some((part) => part.buffer === three.close.buffer)).toBe(true)
    expect(hex(concat(...barColumnsParts([])))).toBe(hex(encodeBarColumns(emptyBarColumns())))
  })
})
