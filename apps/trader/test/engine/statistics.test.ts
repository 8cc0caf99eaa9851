import { describe, expect, it } from "vitest"
import { returnStatistics, tradeStatistics, YEAR_MS } from "../../src/engine/statistics"

const DAY = 86_400_000

describe("return statistics, computed by hand", () => {
  // Initial cash 100; five daily bars with returns +10 %, −10 %, +10 %, +20 %, −5 %:
  // equity 110, 99, 108.9, 130.68, 124.146.
  const equity = [110, 99, 108.9, 130.68, 124.146]
  const ts = [0, 1, 2, 3, 4].map((i) => i * DAY)
  const s = returnStatistics(equity, ts, 100, DAY)
  // Five bars span 5 days = 5 / 365.25 years, so 365.25 bars a year.
  const years = 5 / 365.25
  const perYear = 365.25

  it("total return and CAGR", () => {
    // 124.146 / 100 − 1
    expect(s.totalReturn).toBeCloseTo(0.24146, 12)
    // (1.24146)^(1 / years) − 1
    expect(s.cagr! / (1.24146 ** (1 / years) - 1)).toBeCloseTo(1, 10)
  })

  it("volatility, Sharpe and Sortino", () => {
    // mean = (0.1 − 0.1 + 0.1 + 0.2 − 0.05) / 5 = 0.05
    // deviations 0.05, −0.15, 0.05, 0.15, −0.1 → squares sum 0.0025 + 0.0225 + 0.0025 + 0.0225 + 0.01 = 0.06
    // sample variance 0.06 / 4 = 0.015; volatility = √0.015 × √365.25 = √5.47875 ≈ 2.34067
    expect(s.volatility).toBeCloseTo(Math.sqrt(5.47875), 10)
    // Sharpe = 0.05 / √0.015 × √365.25 ≈ 7.8023
    expect(s.sharpe).toBeCloseTo((0.05 / Math.sqrt(0.015)) * Math.sqrt(perYear), 10)
    // downside deviation = √((0.1² + 0.05²) / 5) = √0.0025 = 0.05; Sortino = 0.05 / 0.05 × √365.25 ≈ 19.1116
    expect(s.sortino).toBeCloseTo(Math.sqrt(perYear), 10)
  })

  it("max drawdown and the longest time under water", () => {
    // Peak 110 → 99 is 1 − 99/110 = 10 %; 108.9 is still below 110, so 2 bars under water,
    // from bar 0's close (day 1) to bar 2's close (day 3): 2 days. 130.68 → 124.146 is only 5 %.
    expect(s.maxDrawdown).toBeCloseTo(0.1, 12)
    expect(s.maxDrawdownBars).toBe(2)
    expect(s.maxDrawdownMs).toBe(2 * DAY)
  })

  it("a loss from the first bar counts from the initial cash", () => {
    // 100 → 90 → 80: 20 % down, 2 bars, from the first open (0) to bar 1's close (2 days).
    const down = returnStatistics([90, 80], [0, DAY], 100, DAY)
    expect(down.maxDrawdown).toBeCloseTo(0.2, 12)
    expect(down.maxDrawdownBars).toBe(2)
    expect(down.maxDrawdownMs).toBe(2 * DAY)
    expect(down.totalReturn).toBeCloseTo(-0.2, 12)
    // returns −0.1 and −1/9: both downside → Sortino negative.
    expect(down.sortino!).toBeLessThan(0)
  })

  it("is null where a statistic is undefined", () => {
    // Flat equity: no variance, no downside.
    const flat = returnStatistics([100, 100, 100], [0, DAY, 2 * DAY], 100, DAY)
    expect(flat).toMatchObject({
      totalReturn: 0,
      sharpe: null,
      sortino: null,
      maxDrawdown: 0,
      maxDrawdownBars: 0
    })
    expect(flat.volatility).toBe(0)
    expect(flat.cagr).toBe(0)
    // One bar: no sample variance.
    const single = returnStatistics([101], [0], 100, YEAR_MS)
    expect(single).toMatchObject({ volatility: null, sharpe: null })
    // A one-year bar: CAGR equals the total return.
    expect(single.totalReturn).toBeCloseTo(0.01, 12)
    expect(single.cagr).toBeCloseTo(0.01, 12)
    expect(returnStatistics([], [], 100, DAY)).toMatchObject({ totalReturn: 0, cagr: null, maxDrawdown: 0 })
  })
})

describe("trade statistics, computed by hand", () => {
  it("win rate, profit factor, exposure and trades", () => {
    // Round trips +10, −5, +20, −2.5, 0: two wins of five (a break-even trade is not a win);
    // profit factor (10 + 20) / (5 + 2.5) = 4; a position held at 3 of 8 closes.
    expect(tradeStatistics([10, -5, 20, -2.5, 0], 3, 8)).toEqual({
      winRate: 0.4,
      profitFactor: 4,
      exposure: 0.375,
      trades: 5
    })
  })

  it("is null without trades or without losses", () => {
    expect(tradeStatistics([], 0, 10)).toEqual({ winRate: null, profitFactor: null, exposure: 0, trades: 0 })
    expect(tradeStatistics([3], 5, 10)).toEqual({ winRate: 1, profitFactor: null, exposure: 0.5, trades: 1 })
  })
})
