import { describe, expect, it } from "vitest"
import { feeOf, fillPrice, fillQuantity } from "../../src/engine/fillModel"

// One bar opening at 100 and trading between 95 and 105.
const bar = { open: 100, high: 105, low: 95 }

describe("fill model", () => {
  it("fills a market order at the open, slippage against the taker", () => {
    expect(fillPrice({ side: "buy", type: "market" }, bar, 0)).toBe(100)
    // 50 bp: a buy pays 100 × 1.005, a sell gets 100 × 0.995.
    expect(fillPrice({ side: "buy", type: "market" }, bar, 50)).toBeCloseTo(100.5, 12)
    expect(fillPrice({ side: "sell", type: "market" }, bar, 50)).toBeCloseTo(99.5, 12)
  })

  it.each([
    // [side, limit, expected]: the bar opens at 100 and trades 95–105.
    ["buy", 97, 97], // the low crosses it: at the limit
    ["buy", 95, 95], // touched exactly
    ["buy", 94.99, undefined], // never reached
    ["buy", 101, 100], // opens through it (below): at the better open
    ["sell", 103, 103],
    ["sell", 105, 105],
    ["sell", 105.01, undefined],
    ["sell", 99, 100] // opens above it: at the open
  ] as const)("fills a %s limit at %d at %s, with no slippage", (side, limitPrice, expected) => {
    expect(fillPrice({ side, type: "limit", limitPrice }, bar, 50)).toBe(expected)
  })

  it.each([
    ["buy", 103, 103 * 1.005], // the high reaches it: at the stop, slipped up
    ["buy", 105, 105 * 1.005],
    ["buy", 105.01, undefined],
    ["buy", 98, 100 * 1.005], // opens above it (gap): at the open
    ["sell", 97, 97 * 0.995],
    ["sell", 95, 95 * 0.995],
    ["sell", 94.99, undefined],
    ["sell", 102, 100 * 0.995] // opens below it (gap): at the open
  ] as const)("triggers a %s stop at %d at %s, slippage included", (side, stopPrice, expected) => {
    const price = fillPrice({ side, type: "stop", stopPrice }, bar, 50)
    if (expected === undefined) expect(price).toBeUndefined()
    else expect(price).toBeCloseTo(expected, 10)
  })

  it("converts a buy's notional so that price plus fee spends exactly it", () => {
    // 10 bp fee at price 50: 1000 / (50 × 1.001) = 19.98001998… units; cost 999.000999 + fee 0.999000999 = 1000.
    const quantity = fillQuantity({ side: "buy", notional: 1_000 }, 50, 10)
    expect(quantity).toBeCloseTo(1_000 / 50.05, 12)
    expect(quantity * 50 + feeOf(quantity, 50, 10)).toBeCloseTo(1_000, 9)
    // A sell's notional is its gross proceeds: 1000 / 50 = 20 units.
    expect(fillQuantity({ side: "sell", notional: 1_000 }, 50, 10)).toBe(20)
    expect(fillQuantity({ side: "sell", quantity: 3 }, 50, 10)).toBe(3)
  })

  it("charges the fee in basis points of the notional", () => {
    // 4 × 25 = 100 notional, 10 bp = 0.1.
    expect(feeOf(4, 25, 10)).toBeCloseTo(0.1, 12)
    expect(feeOf(4, 25, 0)).toBe(0)
  })
})
