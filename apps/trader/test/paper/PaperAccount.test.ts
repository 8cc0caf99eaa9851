import type { OrderRequest } from "@quasar/providers/sdk"
import { describe, expect, it } from "vitest"
import { feeOf, fillPrice } from "../../src/engine/fillModel"
import {
  balances,
  equity,
  openAccount,
  openOrders,
  type PaperBar,
  type PaperCommand,
  type PaperState,
  positions,
  step
} from "../../src/paper/PaperAccount"

const MIN = 60_000
const settings = { quote: "USD", feeBps: 10, slippageBps: 5 }
const bar = (i: number, open: number, high: number, low: number, close: number): PaperBar => ({
  ts: i * MIN,
  open,
  high,
  low,
  close
})
const order = (id: string, o: Partial<OrderRequest>): OrderRequest => ({
  clientOrderId: id,
  symbol: "BTC/USD",
  side: "buy",
  type: "market",
  quantity: 1,
  ...o
})

/** Runs commands in order; yields the last state and every event and reply. */
const run = (state: PaperState, commands: ReadonlyArray<PaperCommand>) => {
  const events = []
  const replies = []
  for (const c of commands) {
    const next = step(state, c)
    state = next.state
    events.push(...next.events)
    replies.push(next.reply)
  }
  return { state, events, replies }
}

describe("a paper account", () => {
  it("fills a market order at the open of the first bar after the one it was placed after, like a backtest", () => {
    const start = openAccount(settings, 10_000)
    const { state, events } = run(start, [
      { type: "bar", symbol: "BTC/USD", bar: bar(0, 100, 101, 99, 100) },
      { type: "place", request: order("a", { quantity: 2 }), at: MIN + 5 },
      // Bar 1 closing after the order was placed (its open is before `at`): still bar 1 opens after bar 0.
      { type: "bar", symbol: "BTC/USD", bar: bar(1, 102, 104, 101, 103) }
    ])
    const price = fillPrice({ side: "buy", type: "market" }, { open: 102, high: 104, low: 101 }, 5)!
    const fee = feeOf(2, price, 10)
    expect(events.filter((e) => e.type === "fill")).toEqual([
      {
        type: "fill",
        fill: {
          id: "P1-1",
          orderId: "P1",
          clientOrderId: "a",
          symbol: "BTC/USD",
          side: "buy",
          quantity: 2,
          price,
          fee,
          ts: MIN,
          liquidity: "taker"
        }
      }
    ])
    expect(state.cash).toBeCloseTo(10_000 - 2 * price - fee, 9)
    expect(positions(state)).toEqual([{ symbol: "BTC/USD", quantity: 2, averagePrice: price }])
    expect(openOrders(state)).toEqual([])
    expect(equity(state)).toBeCloseTo(state.cash + 2 * 103, 9)
    expect(balances(state)).toEqual([
      { asset: "USD", total: state.cash, available: state.cash },
      { asset: "BTC", total: 2, available: 2 }
    ])
  })

  it("is idempotent on clientOrderId: placing the same id again returns the first order, no second one", () => {
    const first = step(openAccount(settings, 1_000), { type: "place", request: order("same", {}), at: 1 })
    const again = step(first.state, { type: "place", request: order("same", { quantity: 5 }), at: 2 })
    expect(again.reply).toEqual(first.reply)
    expect(again.events).toEqual([])
    expect(openOrders(again.state)).toHaveLength(1)
  })

  it("fills limit and stop orders when a later bar reaches them, at the open when it gaps through", () => {
    const { state, events } = run(openAccount(settings, 10_000), [
      { type: "bar", symbol: "BTC/USD", bar: bar(0, 100, 100, 100, 100) },
      { type: "place", request: order("lim", { type: "limit", limitPrice: 95 }), at: MIN },
      { type: "place", request: order("stop", { type: "stop", stopPrice: 110 }), at: MIN },
      // Reaches neither.
      { type: "bar", symbol: "BTC/USD", bar: bar(1, 100, 105, 96, 101) },
      // Trades through the limit: filled at 95.
      { type: "bar", symbol: "BTC/USD", bar: bar(2, 99, 100, 94, 96) },
      // Opens above the stop: filled at the open plus slippage.
      { type: "bar", symbol: "BTC/USD", bar: bar(3, 112, 115, 111, 114) }
    ])
    const fills = events.flatMap((e) => (e.type === "fill" ? [e.fill] : []))
    expect(fills.map((f) => [f.clientOrderId, f.ts, f.price])).toEqual([
      ["lim", 2 * MIN, 95],
      ["stop", 3 * MIN, 112 * 1.0005]
    ])
    expect(fills[0]!.liquidity).toBe("maker")
    expect(positions(state)[0]!.quantity).toBe(2)
  })

  it("refuses what is certain not to work at placement, with the SDK's reasons", () => {
    const s = run(openAccount(settings, 1_000), [
      { type: "bar", symbol: "BTC/USD", bar: bar(0, 100, 100, 100, 100) }
    ]).state
    const refusals = [
      order("nan", { quantity: Number.NaN }),
      order("neg", { quantity: -1 }),
      order("nolimit", { type: "limit" }),
      order("sym", { symbol: "BTCUSD" }),
      order("big", { quantity: 20 }),
      order("short", { side: "sell" })
    ].map((request) => step(s, { type: "place", request, at: MIN }).reply)
    expect(refusals.map((r) => (r?.ok === false ? r.refusal.reason : "placed"))).toEqual([
      "invalidOrder",
      "invalidOrder",
      "invalidOrder",
      "invalidOrder",
      "insufficientFunds",
      "insufficientFunds"
    ])
    expect(refusals[4]?.ok === false && refusals[4].refusal.message).toContain("is available")
  })

  it("reserves cash for open buys, and cancels at its fill an order that the cash no longer covers", () => {
    const start = run(openAccount(settings, 1_000), [
      { type: "bar", symbol: "BTC/USD", bar: bar(0, 100, 100, 100, 100) }
    ])
    // Two buys of 6 at about 100: the second would need cash the first holds.
    const a = step(start.state, { type: "place", request: order("a", { quantity: 6 }), at: MIN })
    const b = step(a.state, { type: "place", request: order("b", { quantity: 6 }), at: MIN })
    expect(b.reply?.ok === false && b.reply.refusal.reason).toBe("insufficientFunds")
    // Unknown price at placement (no bar yet): accepted, cancelled at the fill with the reason.
    const blind = step(openAccount(settings, 100), {
      type: "place",
      request: order("c", { quantity: 2 }),
      at: 0
    })
    const filled = step(blind.state, { type: "bar", symbol: "BTC/USD", bar: bar(1, 100, 100, 100, 100) })
    expect(filled.events).toEqual([
      {
        type: "order",
        order: expect.objectContaining({
          clientOrderId: "c",
          status: "canceled",
          reason: expect.stringContaining("cash is 100.00")
        })
      }
    ])
    expect(filled.state.cash).toBe(100)
  })

  it("cancels an open order once; an unknown one is refused; old or repeated bars change nothing", () => {
    const placed = run(openAccount(settings, 10_000), [
      { type: "bar", symbol: "BTC/USD", bar: bar(5, 100, 100, 100, 100) },
      { type: "place", request: order("x", { type: "limit", limitPrice: 50 }), at: 6 * MIN }
    ])
    const cancelled = step(placed.state, { type: "cancel", ref: { clientOrderId: "x" }, at: 7 * MIN })
    expect(cancelled.reply?.ok && cancelled.reply.order.status).toBe("canceled")
    expect(openOrders(cancelled.state)).toEqual([])
    expect(step(cancelled.state, { type: "cancel", ref: { orderId: "P1" }, at: 8 * MIN }).events).toEqual([])
    const unknown = step(cancelled.state, { type: "cancel", ref: { orderId: "nope" }, at: 8 * MIN }).reply
    expect(unknown?.ok === false && unknown.refusal.reason).toBe("unknownOrder")
    const stale = step(placed.state, { type: "bar", symbol: "BTC/USD", bar: bar(5, 1, 1, 1, 1) })
    expect(stale.state).toBe(placed.state)
  })

  it("sells what it holds, realising cash; a sell of more than the position is refused", () => {
    const { state } = run(openAccount({ ...settings, slippageBps: 0, feeBps: 0 }, 1_000), [
      { type: "bar", symbol: "ETH/USD", bar: bar(0, 10, 10, 10, 10) },
      { type: "place", request: order("buy", { symbol: "ETH/USD", quantity: 10 }), at: MIN },
      { type: "bar", symbol: "ETH/USD", bar: bar(1, 10, 10, 10, 10) },
      {
        type: "place",
        request: order("sell", { symbol: "ETH/USD", side: "sell", quantity: 4 }),
        at: 2 * MIN
      },
      { type: "bar", symbol: "ETH/USD", bar: bar(2, 12, 12, 12, 12) }
    ])
    expect(state.cash).toBe(1_000 - 100 + 48)
    expect(positions(state)).toEqual([{ symbol: "ETH/USD", quantity: 6, averagePrice: 10 }])
    const tooMuch = step(state, {
      type: "place",
      request: order("more", { symbol: "ETH/USD", side: "sell", quantity: 7 }),
      at: 3 * MIN
    }).reply
    expect(tooMuch?.ok === false && tooMuch.refusal.message).toContain("short selling is not modelled")
  })

  it("fills nothing at a price of 0 or below: the order is cancelled with the reason, cash and holdings stay", () => {
    const { state, events } = run(openAccount(settings, 1_000), [
      { type: "bar", symbol: "BTC/USD", bar: bar(0, 1, 1, 1, 1) },
      { type: "place", request: order("zero", { quantity: 5 }), at: MIN },
      { type: "bar", symbol: "BTC/USD", bar: bar(1, 0, 0, 0, 0) }
    ])
    expect(events.filter((e) => e.type === "fill")).toEqual([])
    expect(state.orders.get("P1")).toMatchObject({
      status: "canceled",
      reason: "cannot fill at 0: orders fill only at prices above 0"
    })
    expect(state.cash).toBe(1_000)
    expect(positions(state)).toEqual([])
  })
})
