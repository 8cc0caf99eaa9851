import { describe, expect, it } from "vitest"
import { IndicatorSet } from "../../src/engine/IndicatorSet"
import { SlidingWindow } from "../../src/engine/SlidingWindow"

/** Feeds [high, low, close] bars to a window and an indicator set, as the engine does. */
const feed = (
  window: SlidingWindow,
  set: IndicatorSet,
  bars: ReadonlyArray<readonly [number, number, number]>
) => {
  for (const [high, low, close] of bars) {
    window.push(window.length, close, high, low, close, 1)
    set.update(high, low, close)
  }
}

const closes = (xs: ReadonlyArray<number>) => xs.map((c) => [c, c, c] as const)

describe("sliding window", () => {
  it("keeps the last bars, oldest first, across the moves to the front", () => {
    const window = new SlidingWindow(3)
    const seen: Array<Array<number>> = []
    for (let i = 1; i <= 9; i++) {
      window.push(i, i, i, i, i * 10, i)
      seen.push(Array.from(window.read().close))
    }
    expect(seen).toEqual([
      [10],
      [10, 20],
      [10, 20, 30],
      [20, 30, 40],
      [30, 40, 50],
      [40, 50, 60],
      [50, 60, 70], // the buffers (2 × 3) filled up here and the last bars moved to the front
      [60, 70, 80],
      [70, 80, 90]
    ])
    const view = window.read()
    expect(view).toBe(window.read())
    expect(Array.from(view.ts)).toEqual([7, 8, 9])
    expect(view.length).toBe(3)
  })
})

describe("indicators, computed by hand", () => {
  it("SMA is the mean of the last closes", () => {
    const window = new SlidingWindow(10)
    const set = new IndicatorSet()
    feed(window, set, closes([1, 2]))
    expect(set.smaOf(3, window)).toBeUndefined()
    feed(window, set, closes([3]))
    // (1 + 2 + 3) / 3
    expect(set.smaOf(3, window)).toBe(2)
    feed(window, set, closes([7]))
    // (2 + 3 + 7) / 3
    expect(set.smaOf(3, window)).toBe(4)
  })

  it("EMA starts from the first close and weighs 2 / (n + 1)", () => {
    const window = new SlidingWindow(10)
    const set = new IndicatorSet()
    feed(window, set, closes([1, 2]))
    expect(set.emaOf(3, window)).toBeUndefined()
    feed(window, set, closes([3]))
    // k = 0.5: 1 → 0.5 × 2 + 0.5 × 1 = 1.5 → 0.5 × 3 + 0.5 × 1.5 = 2.25
    expect(set.emaOf(3, window)).toBeCloseTo(2.25, 12)
  })

  it("RSI smooths gains and losses the Wilder way", () => {
    const window = new SlidingWindow(10)
    const set = new IndicatorSet()
    feed(window, set, closes([1, 2, 3]))
    // Gains 1, 1, no losses: 100.
    expect(set.rsiOf(2, window)).toBe(100)
    feed(window, set, closes([2]))
    // Average gain (0 − 1) / 2 + 1 = 0.5, average loss (1 − 0) / 2 + 0 = 0.5: RS = 1, RSI = 100 − 100 / 2.
    expect(set.rsiOf(2, window)).toBeCloseTo(50, 12)
  })

  it("ATR averages the true range the Wilder way", () => {
    const window = new SlidingWindow(10)
    const set = new IndicatorSet()
    // True ranges: 2 − 1 = 1; max(3 − 2, |3 − 1.5|, |2 − 1.5|) = 1.5 → first ATR (1 + 1.5) / 2 = 1.25
    feed(window, set, [
      [2, 1, 1.5],
      [3, 2, 2.5]
    ])
    expect(set.atrOf(2, window)).toBeCloseTo(1.25, 12)
    // max(4 − 2, |4 − 2.5|, |2 − 2.5|) = 2 → 1.25 + (2 − 1.25) / 2 = 1.625
    feed(window, set, [[4, 2, 3]])
    expect(set.atrOf(2, window)).toBeCloseTo(1.625, 12)
  })

  it("Bollinger bands are the SMA ± k population standard deviations", () => {
    const window = new SlidingWindow(10)
    const set = new IndicatorSet()
    feed(window, set, closes([1, 2, 3]))
    // Mean 2; variance (1 + 0 + 1) / 3 = 2/3; 2 × √(2/3) ≈ 1.63299
    const bands = set.bollingerOf(3, 2, window)!
    expect(bands.middle).toBeCloseTo(2, 12)
    expect(bands.upper).toBeCloseTo(2 + 2 * Math.sqrt(2 / 3), 12)
    expect(bands.lower).toBeCloseTo(2 - 2 * Math.sqrt(2 / 3), 12)
  })

  it("gives an indicator first asked for late the value of one fed from the start", () => {
    const prices = Array.from({ length: 40 }, (_, i) => 100 + Math.sin(i / 3) * 5)
    const early = new IndicatorSet()
    const late = new IndicatorSet()
    const window = new SlidingWindow(50)
    early.smaOf(5, window)
    early.bollingerOf(5, 2, window)
    feed(window, early, closes(prices))
    // `late` sees the same window but is asked for the first time only now.
    expect(late.smaOf(5, window)).toBeCloseTo(early.smaOf(5, window)!, 12)
    expect(late.bollingerOf(5, 2, window)).toEqual(early.bollingerOf(5, 2, window))
  })
})
