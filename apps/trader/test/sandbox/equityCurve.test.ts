/**
 * The equity curve a child sends in pieces: joined in order, and refused out of order, uneven, too
 * long, or with values the result's schema would not encode.
 */
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { makeEquityCurve } from "../../src/sandbox/equityCurve"

const piece = (at: number, values: ReadonlyArray<number>, benchmark = values) => ({
  _tag: "Equity" as const,
  run: 1,
  at,
  ts: Float64Array.from(values, (_, i) => (at + i) * 60_000),
  equity: Float64Array.from(values),
  benchmark: Float64Array.from(benchmark)
})

describe("a run's equity curve from its pieces", () => {
  it("joins the pieces in order", () => {
    // Room for two points at first: the columns grow as pieces come.
    const curve = makeEquityCurve(() => 5, 2)
    curve.add(piece(0, [10, 11]))
    curve.add(piece(2, [12, 13, 14]))
    expect(Either.getOrThrow(curve.joined())).toEqual({
      ts: Float64Array.of(0, 60_000, 120_000, 180_000, 240_000),
      equity: Float64Array.of(10, 11, 12, 13, 14),
      benchmark: Float64Array.of(10, 11, 12, 13, 14)
    })
    expect(Either.getOrThrow(makeEquityCurve(() => 0).joined()).ts).toEqual(new Float64Array(0))
  })

  it("names a piece out of order, with uneven columns, or past the bars handed over so far", () => {
    const gap = makeEquityCurve(() => 10)
    gap.add(piece(0, [1]))
    gap.add(piece(2, [3]))
    expect(Either.flip(gap.joined()).pipe(Either.getOrThrow)).toMatch(/from traded bar 2 where 1 was next/)
    const uneven = makeEquityCurve(() => 10)
    uneven.add(piece(0, [1, 2], [1]))
    expect(Either.flip(uneven.joined()).pipe(Either.getOrThrow)).toMatch(/different lengths/)
    let handed = 2
    const long = makeEquityCurve(() => handed)
    long.add(piece(0, [1, 2]))
    handed = 3
    long.add(piece(2, [3]))
    expect(Either.isRight(long.joined())).toBe(true)
    long.add(piece(3, [4]))
    expect(Either.flip(long.joined()).pipe(Either.getOrThrow)).toMatch(
      /more equity points than the 3 bars it was given/
    )
  })

  it("names times that are not rising epoch milliseconds and values that are not finite", () => {
    const refusal = (...pieces: ReadonlyArray<ReturnType<typeof piece>>) => {
      const curve = makeEquityCurve(() => 10)
      for (const p of pieces) curve.add(p)
      return Either.flip(curve.joined()).pipe(Either.getOrThrow)
    }
    expect(refusal(piece(0, [1, Number.NaN]))).toMatch(/not a finite number at time 60000/)
    expect(refusal(piece(0, [1, 2], [1, Number.POSITIVE_INFINITY]))).toMatch(/not a finite number/)
    expect(refusal({ ...piece(0, [1]), ts: Float64Array.of(-60_000) })).toMatch(/-60000, which is not epoch/)
    expect(refusal({ ...piece(0, [1]), ts: Float64Array.of(0.5) })).toMatch(/0.5, which is not epoch/)
    expect(refusal(piece(0, [1, 2]), { ...piece(2, [3]), ts: Float64Array.of(60_000) })).toMatch(
      /time 60000, not after the point before it \(60000\)/
    )
  })

  it("keeps nothing of a piece it refused, and takes no piece after one", () => {
    const curve = makeEquityCurve(() => 10)
    curve.add(piece(0, [1, 2]))
    curve.add(piece(2, [Number.NaN]))
    curve.add(piece(2, [3]))
    expect(Either.isLeft(curve.joined())).toBe(true)
  })
})
