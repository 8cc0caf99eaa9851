import { describe, expect, it } from "@effect/vitest"
import type { DeploymentOrder } from "@quasar/domain"
import type { Fill, StrategyOrderInput } from "@quasar/providers/sdk"
import * as Deployment from "../../src/deploy/DeploymentState"
import { DAY_MS } from "../../src/deploy/RiskLimits"
import { restoreDeployment } from "../../src/deploy/restoreDeployment"
import * as Paper from "../../src/paper/PaperAccount"
import { audits, bar, limits, MINUTE, run, T0 } from "./deploymentSteps"

const settings = { quote: "USD", feeBps: 10, slippageBps: 0 }

const fresh = () => Deployment.start(7, limits, ["BTC/USD"], Paper.openAccount(settings, 10_000))

const buy = (quantity: number): StrategyOrderInput => ({
  symbol: "BTC/USD",
  side: "buy",
  type: "market",
  quantity
})
const decision = (
  i: number,
  orders: ReadonlyArray<StrategyOrderInput>,
  cancels: ReadonlyArray<number> = []
) => ({ type: "decision", ts: T0 + i * MINUTE, orders, cancels }) as const
const barIn = (i: number, price: number) => ({ type: "bar", bar: bar(i, price) }) as const

describe("DeploymentState", () => {
  it("asks for a decision on each new bar, and fills a market order at the next bar's open", () => {
    const first = run(fresh(), [barIn(0, 100)])
    expect(first.decide).toBe(true)
    const placed = run(first.state, [decision(0, [buy(10)])])
    expect(audits(placed.events)).toEqual(["risk:accepted", "order:placed"])
    const order = placed.events.find((e) => e.type === "order")
    expect(order).toMatchObject({ seq: 1, order: { clientOrderId: `7-${T0}-0`, status: "open" } })
    const filled = run(placed.state, [barIn(1, 101)])
    expect(filled.events.filter((e) => e.type === "fill")).toMatchObject([
      { fill: { clientOrderId: `7-${T0}-0`, quantity: 10, price: 101, ts: T0 + MINUTE } }
    ])
    expect(Paper.positions(filled.state.account)).toEqual([
      { symbol: "BTC/USD", quantity: 10, averagePrice: 101 }
    ])
  })

  it("handles a bar or a decision seen before as nothing new (no second order)", () => {
    const once = run(fresh(), [barIn(0, 100), decision(0, [buy(10)])])
    const again = run(once.state, [barIn(0, 100), decision(0, [buy(10)])])
    expect(again.events).toEqual([])
    expect(again.decide).toBe(false)
    expect(once.state.account.orders.size).toBe(1)
  })

  it("refuses orders over a risk limit and malformed ones, with an audit entry each", () => {
    const { events, state } = run(fresh(), [
      barIn(0, 100),
      decision(0, [
        buy(60),
        { symbol: "ETH/USD", side: "buy", type: "market", quantity: 1 },
        buy(40),
        buy(39)
      ])
    ])
    expect(audits(events)).toEqual([
      "risk:rejected",
      "order:refused",
      "risk:accepted",
      "order:placed",
      "risk:accepted",
      "order:placed"
    ])
    expect(events.filter((e) => e.type === "order").map((e) => e.type === "order" && e.order.status)).toEqual(
      ["rejected", "rejected", "open", "open"]
    )
    expect(state.nextSeq).toBe(5)
  })

  it("converts a notional buy into units at the last close, fee and slippage included", () => {
    const { state } = run(fresh(), [
      barIn(0, 100),
      decision(0, [{ symbol: "BTC/USD", side: "buy", type: "market", notional: 1_001 }])
    ])
    expect(Paper.openOrders(state.account)[0]!.quantity).toBeCloseTo(10, 9)
  })

  it("refuses a notional order while the last close is 0 or below: no units to convert it into", () => {
    const { events, state } = run(fresh(), [
      barIn(0, 0),
      decision(0, [{ symbol: "BTC/USD", side: "buy", type: "market", notional: 100 }])
    ])
    expect(events.filter((e) => e.type === "order")).toMatchObject([
      { order: { status: "rejected", reason: "cannot convert a notional into units at a price of 0" } }
    ])
    expect(Paper.openOrders(state.account)).toEqual([])
  })

  it("stops and flattens when the day's loss passes the limit, and ends once flat", () => {
    const holding = run(fresh(), [barIn(0, 100), decision(0, [buy(40)]), barIn(1, 100)])
    const breached = run(holding.state, [barIn(2, 85)])
    expect(audits(breached.events)).toEqual(["risk:breach", "order:placed", "status:flattening"])
    expect(breached.decide).toBe(false)
    expect(breached.state.mode).toBe("flattening")
    const flat = run(breached.state, [decision(2, [buy(1)]), barIn(3, 84)])
    expect(Paper.positions(flat.state.account)).toEqual([])
    expect(flat.state.mode).toBe("ended")
    expect(flat.events.filter((e) => e.type === "status")).toMatchObject([{ status: "breached" }])
    expect(flat.events.some((e) => e.type === "order" && e.order.side === "buy")).toBe(false)
  })

  it("counts the daily loss from the equity at the UTC day's start", () => {
    const holding = run(fresh(), [barIn(0, 100), decision(0, [buy(40)]), barIn(1, 100)])
    // 88 on the next day, the previous day having closed at 90: a loss of 80, not 480.
    const nextDay = run(holding.state, [
      barIn(2, 90),
      { type: "bar", bar: { ...bar(0, 88), ts: T0 + DAY_MS } }
    ])
    expect(nextDay.state.mode).toBe("running")
    expect(nextDay.state.dayStart).toBe(T0 + DAY_MS)
  })

  it("kill cancels open orders and sells the position at the next bar", () => {
    const holding = run(fresh(), [
      barIn(0, 100),
      decision(0, [buy(10)]),
      barIn(1, 100),
      decision(1, [buy(5)])
    ])
    const killed = run(holding.state, [{ type: "kill", message: "kill switch" }])
    expect(audits(killed.events)).toEqual([
      "risk:kill",
      "order:canceled",
      "order:placed",
      "status:flattening"
    ])
    const flat = run(killed.state, [barIn(2, 99)])
    expect(flat.state.mode).toBe("ended")
    expect(flat.events.filter((e) => e.type === "status")).toMatchObject([{ status: "killed" }])
    expect(flat.state.account.cash).toBeCloseTo(10_000 - 1_000 - 1 + 990 - 0.99, 9)
  })

  it("kill of a flat deployment ends it at once", () => {
    const killed = run(fresh(), [barIn(0, 100), { type: "kill", message: "kill switch" }])
    expect(killed.state.mode).toBe("ended")
    expect(killed.events.filter((e) => e.type === "status")).toMatchObject([{ status: "killed" }])
  })

  it("rebuilt from its persisted events, it is the same account and places no order twice", () => {
    const live = run(fresh(), [
      barIn(0, 100),
      decision(0, [buy(10)]),
      barIn(1, 101),
      decision(1, [{ symbol: "BTC/USD", side: "sell", type: "limit", quantity: 4, limitPrice: 120 }]),
      barIn(2, 102),
      decision(2, [{ symbol: "BTC/USD", side: "sell", type: "market", quantity: 3 }]),
      barIn(3, 99)
    ])
    // What the tables keep: the last version of each order, each fill once, the last mark per symbol.
    const orders = new Map<string, { seq: number; order: DeploymentOrder }>()
    const fills = new Map<string, Fill>()
    const marks = new Map<string, Paper.PaperBar>()
    for (const e of live.events) {
      if (e.type === "order") orders.set(e.order.clientOrderId, { seq: e.seq, order: e.order })
      if (e.type === "fill") fills.set(e.fill.id, e.fill)
      if (e.type === "mark") marks.set(e.symbol, e.bar)
    }
    const restored = restoreDeployment({
      id: 7,
      venue: "paper",
      limits,
      universe: ["BTC/USD"],
      settings,
      initialCash: 10_000,
      mode: "running",
      flattenAs: "killed",
      flattenMessage: "",
      lastBarTs: live.state.lastBarTs,
      dayStart: live.state.dayStart,
      dayStartEquity: live.state.dayStartEquity,
      orders: [...orders.values()].sort((a, b) => a.seq - b.seq),
      fills: [...fills.values()],
      marks
    })
    expect(restored.account.cash).toBeCloseTo(live.state.account.cash, 9)
    expect(Paper.positions(restored.account)).toEqual(Paper.positions(live.state.account))
    expect(Paper.openOrders(restored.account)).toEqual(Paper.openOrders(live.state.account))
    expect(restored.nextSeq).toBe(live.state.nextSeq)
    expect(restored.account.nextId).toBe(live.state.account.nextId)
    // The decision of bar 2 handled again after the restart places nothing.
    expect(
      run(restored, [decision(2, [{ symbol: "BTC/USD", side: "sell", type: "market", quantity: 3 }])]).events
    ).toEqual([])
    // And both go on alike.
    const next = [barIn(4, 130)] as const
    expect(run(restored, next).events).toEqual(run(live.state, next).events)
  })
})
