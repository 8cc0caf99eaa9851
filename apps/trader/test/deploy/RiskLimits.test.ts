import { describe, expect, it } from "@effect/vitest"
import { checkOrder, DAY_MS, dailyLossBreach, dayOf } from "../../src/deploy/RiskLimits"

const limits = { maxOrderNotional: 1_000, maxPositionNotional: 2_000, maxDailyLoss: 100 }

describe("RiskLimits", () => {
  it("refuses an order above the order notional, whatever its side", () => {
    expect(checkOrder(limits, { side: "buy", quantity: 11, price: 100 }, 0)).toMatchObject({
      ok: false,
      message: expect.stringContaining("maxOrderNotional")
    })
    expect(checkOrder(limits, { side: "sell", quantity: 11, price: 100 }, 20).ok).toBe(false)
    expect(checkOrder(limits, { side: "buy", quantity: 10, price: 100 }, 0).ok).toBe(true)
  })

  it("refuses a buy that takes the position above its limit, but never a sell", () => {
    expect(checkOrder(limits, { side: "buy", quantity: 5, price: 100 }, 16)).toMatchObject({
      ok: false,
      message: expect.stringContaining("maxPositionNotional")
    })
    expect(checkOrder(limits, { side: "buy", quantity: 5, price: 100 }, 15).ok).toBe(true)
    expect(checkOrder(limits, { side: "sell", quantity: 5, price: 100 }, 30).ok).toBe(true)
  })

  it("breaches when the loss since the day's start passes the limit", () => {
    expect(dailyLossBreach(limits, 10_000, 9_900)).toBeUndefined()
    expect(dailyLossBreach(limits, 10_000, 9_899)).toContain("maxDailyLoss")
    expect(dailyLossBreach(limits, 10_000, 12_000)).toBeUndefined()
  })

  it("counts days in UTC", () => {
    expect(dayOf(3 * DAY_MS + 5)).toBe(3 * DAY_MS)
    expect(dayOf(3 * DAY_MS)).toBe(3 * DAY_MS)
  })
})
