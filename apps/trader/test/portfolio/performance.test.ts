import { describe, expect, it } from "@effect/vitest"
import type { DeploymentFill } from "@quasar/domain"
import { accountPerformance, totalPerformance } from "../../src/portfolio/performance"

const fill = (
  side: "buy" | "sell",
  quantity: number,
  price: number,
  fee: number,
  ts: number
): DeploymentFill => ({
  fillId: `f${ts}`,
  clientOrderId: `c${ts}`,
  symbol: "BTC/USD",
  side,
  quantity,
  price,
  fee,
  ts
})

describe("performance", () => {
  const account = accountPerformance({
    initialCash: 10_000,
    fills: [fill("buy", 10, 100, 1, 1), fill("buy", 10, 110, 1.1, 2), fill("sell", 5, 120, 0.6, 3)],
    marks: new Map([["BTC/USD", 90]]),
    equity: [
      { ts: 1, equity: 10_050 },
      { ts: 2, equity: 9_000 },
      { ts: 3, equity: 9_500 }
    ]
  })

  it("marks positions to the latest close and splits PnL into realised and unrealised, fees included", () => {
    expect(account.positions).toMatchObject([
      { symbol: "BTC/USD", quantity: 15, averagePrice: 105, lastPrice: 90 }
    ])
    // Cost 2102.1 for 20 units; 5 sold for 600 − 0.6 against a basis of 525.525.
    expect(account.realizedPnl).toBeCloseTo(600 - 0.6 - 525.525, 9)
    expect(account.unrealizedPnl).toBeCloseTo(15 * 90 - (2102.1 - 525.525), 9)
    expect(account.fees).toBeCloseTo(2.7, 9)
    expect(account.equity - account.initialCash).toBeCloseTo(account.realizedPnl + account.unrealizedPnl, 9)
    expect(account.exposure).toEqual([{ asset: "BTC", marketValue: 1_350, share: 1_350 / account.equity }])
  })

  it("draws the drawdown from the highest equity so far, the initial cash included", () => {
    expect(account.equityCurve.map((p) => p.drawdown)).toEqual([0, 1 - 9_000 / 10_050, 1 - 9_500 / 10_050])
    expect(account.maxDrawdown).toBeCloseTo(1 - 9_000 / 10_050, 12)
  })

  it("sums accounts, carrying each equity forward between its own points", () => {
    const other = accountPerformance({
      initialCash: 1_000,
      fills: [],
      marks: new Map(),
      equity: [{ ts: 2, equity: 1_000 }]
    })
    const total = totalPerformance([account, other])
    expect(total.initialCash).toBe(11_000)
    expect(total.equityCurve.map((p) => p.equity)).toEqual([11_050, 10_000, 10_500])
    expect(total.equity).toBeCloseTo(account.equity + 1_000, 9)
  })
})
