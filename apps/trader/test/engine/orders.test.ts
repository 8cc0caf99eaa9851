import { FillSettings } from "@quasar/domain"
import type { StrategyOrderInput } from "@quasar/providers/sdk"
import { describe, expect, it } from "vitest"
import { runBacktest } from "../../src/engine/runBacktest"
import { columns, DAY, flatBars, input, scripted } from "./fixtures"

const run = (...args: Parameters<typeof input>) => {
  const outcome = runBacktest(input(...args))
  if (!outcome.ok) throw new Error(outcome.problems.join("; "))
  return outcome.result
}

describe("orders and fills", () => {
  // Daily bars: opens 10, 11, 12, 14, 15; closes 10, 12, 13, 14, 15.
  const bars = columns([
    [0 * DAY, 10, 10, 10, 10],
    [1 * DAY, 11, 12, 11, 12],
    [2 * DAY, 12, 13, 12, 13],
    [3 * DAY, 14, 14, 14, 14],
    [4 * DAY, 15, 15, 15, 15]
  ])

  it("fills market orders at the next open with fees and slippage, and keeps the books", () => {
    const seen: Array<{ cash: number; equity: number; held: number }> = []
    const strategy = scripted((ctx) => {
      seen.push({ cash: ctx.cash, equity: ctx.equity, held: ctx.position("BTC/USD").quantity })
      if (ctx.time === 0) ctx.order({ symbol: "BTC/USD", side: "buy", quantity: 10, type: "market" })
      if (ctx.time === 2 * DAY) ctx.order({ symbol: "BTC/USD", side: "sell", quantity: 10, type: "market" })
    })
    const result = run(
      strategy,
      { "BTC/USD": bars },
      { fill: FillSettings.make({ feeBps: 10, slippageBps: 50 }) }
    )
    // Buy at bar 1's open 11 × 1.005 = 11.055: cost 110.55 + fee 0.11055 → cash 889.33945.
    // Sell at bar 3's open 14 × 0.995 = 13.93: 139.3 − fee 0.1393 = 139.1607 → cash 1028.50015.
    expect(result.fills).toHaveLength(2)
    expect(result.fills[0]).toMatchObject({ orderId: 1, side: "buy", ts: DAY, quantity: 10 })
    expect(result.fills[0]!.price).toBeCloseTo(11.055, 10)
    expect(result.fills[0]!.fee).toBeCloseTo(0.11055, 10)
    expect(result.fills[1]).toMatchObject({ orderId: 2, side: "sell", ts: 3 * DAY, quantity: 10 })
    expect(result.fills[1]!.price).toBeCloseTo(13.93, 10)
    expect(result.orders.map((o) => o.status)).toEqual(["filled", "filled"])
    // Equity at each close: 1000; 889.33945 + 10 × 12; + 10 × 13; then all cash.
    const expected = [1_000, 1_009.33945, 1_019.33945, 1_028.50015, 1_028.50015]
    for (const [i, e] of result.equity.equity.entries()) expect(e).toBeCloseTo(expected[i]!, 8)
    // What the strategy saw: the fill happens before onBar sees the bar it filled in.
    expect(seen.map((s) => s.held)).toEqual([0, 10, 10, 0, 0])
    expect(seen[1]!.cash).toBeCloseTo(889.33945, 8)
    expect(seen[2]!.equity).toBeCloseTo(1_019.33945, 8)
    // One round trip: 139.1607 − 110.66055 = 28.50015, a win; held at 2 of 5 closes.
    expect(result.statistics).toMatchObject({ trades: 1, winRate: 1, profitFactor: null, exposure: 0.4 })
    expect(result.statistics.totalReturn).toBeCloseTo(0.02850015, 10)
    // Buy and hold: 1000 / 10 = 100 units at the first open, worth 100 × close.
    expect(Array.from(result.equity.benchmark)).toEqual([1_000, 1_200, 1_300, 1_400, 1_500])
    expect(result.benchmark.totalReturn).toBeCloseTo(0.5, 12)
  })

  it("fills limit and stop orders when a later bar reaches them, and expires what never fills", () => {
    const strategy = scripted((ctx) => {
      if (ctx.time !== 0) return
      ctx.order({ symbol: "BTC/USD", side: "buy", quantity: 1, type: "limit", limitPrice: 11.5 }) // bar 1 opens at 11, below it: at 11
      ctx.order({ symbol: "BTC/USD", side: "buy", quantity: 1, type: "stop", stopPrice: 12.5 }) // bar 2: high 13 → 12.5
      ctx.order({ symbol: "BTC/USD", side: "buy", quantity: 1, type: "limit", limitPrice: 5 }) // never
      const cancelled = ctx.order({
        symbol: "BTC/USD",
        side: "buy",
        quantity: 1,
        type: "limit",
        limitPrice: 6
      })
      expect(ctx.cancel(cancelled)).toBe(true)
      expect(ctx.cancel(cancelled)).toBe(false)
      expect(ctx.openOrders.map((o) => o.id)).toEqual([1, 2, 3])
    })
    const result = run(strategy, { "BTC/USD": bars })
    expect(result.fills.map((f) => [f.orderId, f.ts, f.price])).toEqual([
      [1, DAY, 11],
      [2, 2 * DAY, 12.5]
    ])
    expect(result.orders.map((o) => [o.status, o.reason])).toEqual([
      ["filled", undefined],
      ["filled", undefined],
      ["expired", "the run ended before it filled"],
      ["cancelled", "cancelled by the strategy"]
    ])
  })

  // Every malformed order is recorded as rejected with a reason, and the run goes on.
  const malformed: ReadonlyArray<[string, Record<string, unknown>, RegExp]> = [
    ["negative quantity", { quantity: -1 }, /quantity must be a finite number above 0/],
    ["zero quantity", { quantity: 0 }, /quantity must be/],
    ["NaN quantity", { quantity: Number.NaN }, /quantity must be/],
    ["infinite quantity", { quantity: Number.POSITIVE_INFINITY }, /quantity must be/],
    ["string quantity", { quantity: "1" }, /quantity must be/],
    ["negative notional", { quantity: undefined, notional: -5 }, /notional must be/],
    ["NaN notional", { quantity: undefined, notional: Number.NaN }, /notional must be/],
    ["both sizes", { notional: 5 }, /exactly one of quantity or notional/],
    ["no size", { quantity: undefined }, /exactly one of quantity or notional/],
    ["symbol outside the universe", { symbol: "ETH/USD" }, /"ETH\/USD" is not in the universe \(BTC\/USD\)/],
    ["no symbol", { symbol: undefined }, /is not in the universe/],
    ["unknown side", { side: "hold" }, /side must be/],
    ["unknown type", { type: "trailing" }, /type must be/],
    ["limit without price", { type: "limit" }, /limit order needs a limitPrice/],
    ["limit with negative price", { type: "limit", limitPrice: -3 }, /limit order needs a limitPrice/],
    ["stop without price", { type: "stop" }, /stop order needs a stopPrice/],
    ["stop-limit", { type: "stop", stopPrice: 3, limitPrice: 4 }, /stop-limit orders are not modelled/],
    ["market with a price", { limitPrice: 3 }, /market order takes neither/]
  ]

  it.each(malformed)("rejects an order with %s", (_, fields, reason) => {
    const ids: Array<number> = []
    const strategy = scripted((ctx) => {
      if (ctx.time === 0) {
        const order = { symbol: "BTC/USD", side: "buy", quantity: 1, type: "market", ...fields }
        ids.push(ctx.order(order as unknown as StrategyOrderInput))
        expect(ctx.openOrders).toHaveLength(0)
        // A good order after it is unaffected.
        ids.push(ctx.order({ symbol: "BTC/USD", side: "buy", quantity: 1, type: "market" }))
      }
    })
    const result = run(strategy, { "BTC/USD": bars })
    expect(result.status).toBe("completed")
    expect(ids).toEqual([1, 2])
    expect(result.orders[0]).toMatchObject({ id: 1, status: "rejected" })
    expect(result.orders[0]!.reason).toMatch(reason)
    expect(result.orders[1]).toMatchObject({ id: 2, status: "filled" })
    expect(result.equity.equity).toHaveLength(5)
  })

  it("rejects at fill time what cash or the position cannot cover", () => {
    const strategy = scripted((ctx) => {
      if (ctx.time === 0) {
        ctx.order({ symbol: "BTC/USD", side: "buy", quantity: 1_000, type: "market" }) // 11,000 > 1,000 cash
        ctx.order({ symbol: "BTC/USD", side: "sell", quantity: 1, type: "market" }) // nothing held
        ctx.order({ symbol: "BTC/USD", side: "buy", notional: ctx.cash, type: "market" }) // exactly all cash
      }
    })
    const result = run(
      strategy,
      { "BTC/USD": bars },
      { fill: FillSettings.make({ feeBps: 10, slippageBps: 0 }) }
    )
    expect(result.orders.map((o) => o.status)).toEqual(["rejected", "rejected", "filled"])
    expect(result.orders[0]!.reason).toMatch(/needs 11011\.00 .* but cash is 1000\.00/)
    expect(result.orders[1]!.reason).toMatch(/sells 1 but the position is 0; short selling is not modelled/)
    // 1000 / (11 × 1.001) units, and the cash is spent to the cent.
    expect(result.fills[0]!.quantity).toBeCloseTo(1_000 / 11.011, 10)
    expect(result.equity.equity[1]).toBeCloseTo((1_000 / 11.011) * 12, 8)
  })

  it("sells a whole position by notional despite rounding, closing the round trip", () => {
    const strategy = scripted((ctx) => {
      const held = ctx.position("BTC/USD")
      if (ctx.time === 0) ctx.order({ symbol: "BTC/USD", side: "buy", notional: 999.99, type: "market" })
      if (ctx.time === DAY)
        ctx.order({ symbol: "BTC/USD", side: "sell", notional: held.quantity * 1.1, type: "market" })
    })
    const result = run(strategy, { "BTC/USD": flatBars([1, 1.1, 1.1, 1.1]) })
    expect(result.orders.map((o) => o.status)).toEqual(["filled", "filled"])
    expect(result.statistics.trades).toBe(1)
    expect(result.statistics.exposure).toBe(0.25)
  })

  it("fills nothing at a price of 0 or below, and the benchmark buys at the first open above 0", () => {
    const strategy = scripted((ctx) => {
      if (ctx.time === 0) ctx.order({ symbol: "BTC/USD", side: "buy", notional: 100, type: "market" })
      if (ctx.time === DAY) ctx.order({ symbol: "BTC/USD", side: "buy", quantity: 1, type: "market" })
      if (ctx.time === 2 * DAY) ctx.order({ symbol: "BTC/USD", side: "buy", notional: 100, type: "market" })
    })
    const result = run(strategy, { "BTC/USD": flatBars([0, 0, -1, 10, 20]) })
    expect(result.status).toBe("completed")
    expect(result.orders.map((o) => o.status)).toEqual(["rejected", "rejected", "filled"])
    expect(result.orders[0]!.reason).toBe("cannot fill at 0: orders fill only at prices above 0")
    expect(result.orders[1]!.reason).toBe("cannot fill at -1: orders fill only at prices above 0")
    expect(result.fills).toEqual([
      { orderId: 3, symbol: "BTC/USD", side: "buy", ts: 3 * DAY, quantity: 10, price: 10, fee: 0 }
    ])
    expect(Array.from(result.equity.equity)).toEqual([1_000, 1_000, 1_000, 1_000, 1_100])
    // Cash until bar 3's open of 10 buys it 100 units.
    expect(Array.from(result.equity.benchmark)).toEqual([1_000, 1_000, 1_000, 1_000, 2_000])
    expect([...result.equity.equity, ...result.equity.benchmark].every(Number.isFinite)).toBe(true)
  })
})
