/**
 * A completed run's result is stored without encoding it again through the schema
 * (`storedForm`): that holds only while every stored field encodes to itself, which this checks on
 * a result with every kind of order, a rejection, a failure and logs.
 */
import { describe, expect, it } from "@effect/vitest"
import { Schema } from "effect"
import { StoredResult, storedForm } from "../../src/backtest/BacktestsRepo"
import { runBacktest } from "../../src/engine/runBacktest"
import { DAY, flatBars, input, scripted } from "../engine/fixtures"

const busy = scripted((ctx) => {
  ctx.log(`bar at ${ctx.time}`)
  if (ctx.time === 0) {
    ctx.order({ symbol: "BTC/USD", side: "buy", quantity: 1, type: "market" })
    ctx.order({ symbol: "BTC/USD", side: "buy", notional: 20, type: "limit", limitPrice: 9 })
    ctx.order({ symbol: "BTC/USD", side: "buy", quantity: 1, type: "stop", stopPrice: 12 })
    ctx.cancel(ctx.order({ symbol: "BTC/USD", side: "buy", quantity: 1, type: "limit", limitPrice: 1 }))
    ctx.order({ symbol: "BTC/USD", side: "buy", quantity: 1_000, type: "market" })
  }
  if (ctx.time === 2 * DAY) ctx.order({ symbol: "BTC/USD", side: "sell", quantity: 1, type: "market" })
  if (ctx.time === 4 * DAY) throw new Error("the strategy gave up")
})

describe("a result's stored form", () => {
  it("is what encoding it through StoredResult gives", () => {
    const outcome = runBacktest(input(busy, { "BTC/USD": flatBars([10, 11, 13, 8, 10, 12]) }))
    if (!outcome.ok) throw new Error(outcome.problems.join("; "))
    const result = outcome.result
    expect(result.status).toBe("failed")
    expect(new Set(result.orders.map((o) => o.status))).toEqual(new Set(["filled", "cancelled", "rejected"]))
    expect(result.logs.length).toBeGreaterThan(0)
    const { equity: _, ...typed } = result
    const stored = storedForm(result)
    expect(stored).not.toHaveProperty("equity")
    expect(Schema.encodeSync(StoredResult)(typed)).toStrictEqual(stored)
  })
})
