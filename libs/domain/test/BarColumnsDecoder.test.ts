import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { makeBarColumnsDecoder } from "../src/BarColumnsDecoder"
import { type BarColumns, decodeBarColumnBlocks, encodeBarColumnBlocks } from "../src/index"

const columns = (n: number, seed: number): BarColumns => ({
  ts: Float64Array.from({ length: n }, (_, i) => 1_704_067_200_000 + (seed + i) * 60_000),
  open: Float64Array.from({ length: n }, (_, i) => 100 + i + seed / 3),
  high: Float64Array.from({ length: n }, (_, i) => 101 + i),
  low: Float64Array.from({ length: n }, (_, i) => 99 + i),
  close: Float64Array.from({ length: n }, (_, i) => 100.5 + i * 0.25),
  volume: Float64Array.from({ length: n }, (_, i) => i % 7)
})

const answer = encodeBarColumnBlocks([columns(3, 0), columns(1, 3), columns(40, 4)])

/** `bytes` pushed in chunks of `size`, then ended. */
const inChunks = (bytes: Uint8Array, size: number, keep = true) => {
  const decoder = makeBarColumnsDecoder({ keep })
  for (let at = 0; at < bytes.length; at += size) decoder.push(bytes.subarray(at, at + size))
  return decoder.end()
}

describe("BarColumns decoded as they arrive", () => {
  it("gives the blocks the whole answer gives, however it is cut", () => {
    const whole = Either.getOrThrow(decodeBarColumnBlocks(answer))
    for (const size of [1, 3, 7, 8, 9, 100, answer.length])
      expect(Either.getOrThrow(inChunks(answer, size))).toEqual(whole)
    // Each block's columns lie in one buffer of its own.
    const blocks = Either.getOrThrow(inChunks(answer, 5))
    expect(new Set(blocks.map((b) => b.ts.buffer)).size).toBe(3)
    expect(blocks.every((b) => b.volume.buffer === b.ts.buffer)).toBe(true)
  })

  it("hands over the blocks completed so far, and counts bars without keeping them when asked", () => {
    const whole = Either.getOrThrow(decodeBarColumnBlocks(answer))
    const decoder = makeBarColumnsDecoder()
    const taken: Array<BarColumns> = []
    for (let at = 0; at < answer.length; at += 50) {
      decoder.push(answer.subarray(at, at + 50))
      taken.push(...decoder.take())
    }
    expect(taken).toEqual(whole)
    expect(decoder.bars()).toBe(44)
    expect(Either.getOrThrow(decoder.end())).toEqual([])

    const counting = makeBarColumnsDecoder({ keep: false })
    counting.push(answer)
    expect(counting.take()).toEqual([])
    expect(counting.bars()).toBe(44)
    expect(Either.getOrThrow(counting.end())).toEqual([])
  })

  it("says what is wrong with an answer that is not complete bar columns, kept or only counted", () => {
    for (const keep of [true, false]) {
      const problem = (bytes: Uint8Array) => Either.flip(inChunks(bytes, 10, keep)).pipe(Either.getOrThrow)
      expect(problem(answer.subarray(0, answer.length - 8))).toMatch(/ends before its end block/)
      expect(problem(answer.subarray(0, 40))).toMatch(/block of 3 bars is incomplete/)
      expect(problem(Uint8Array.from([...answer, 0]))).toMatch(/bytes follow the end block/)
      expect(problem(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0))).toMatch(/QBCS header/)
      expect(problem(new Uint8Array(0))).toMatch(/QBCS header/)
    }
  })
})
