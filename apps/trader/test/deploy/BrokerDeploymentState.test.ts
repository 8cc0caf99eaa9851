/** The deployment reducer on a broker account: intents out, the broker's answers and reports in. */
import { describe, expect, it } from "@effect/vitest"
import type { DeploymentOrder } from "@quasar/domain"
import type { BrokerOrder, Fill } from "@quasar/providers/sdk"
import * as Deployment from "../../src/deploy/DeploymentState"
import { restoreDeployment } from "../../src/deploy/restoreDeployment"
import * as Paper from "../../src/paper/PaperAccount"
import { audits, bar, limits, MINUTE, run, T0 } from "./deploymentSteps"

const CID = `7-${T0}-0`

const fresh = () =>
  Deployment.start(
    7,
    limits,
    ["BTC/USD"],
    Paper.openAccount({ quote: "USD", feeBps: 0, slippageBps: 0 }, 10_000),
    "broker"
  )

const of = <T extends Deployment.DeploymentEvent["type"]>(
  events: ReadonlyArray<Deployment.DeploymentEvent>,
  type: T
) => events.filter((e): e is Extract<Deployment.DeploymentEvent, { type: T }> => e.type === type)

const brokerOrder = (fields: Partial<BrokerOrder> = {}): BrokerOrder => ({
  orderId: "OABC",
  clientOrderId: CID,
  symbol: "BTC/USD",
  side: "buy",
  type: "market",
  quantity: 10,
  filledQuantity: 10,
  status: "filled",
  createdAt: Date.UTC(2026, 0, 1),
  ...fields
})
const fill = (fields: Partial<Fill> = {}): Fill => ({
  id: "T1",
  orderId: "OABC",
  clientOrderId: CID,
  symbol: "BTC/USD",
  side: "buy",
  quantity: 10,
  price: 101,
  fee: 2,
  ts: Date.UTC(2026, 0, 1),
  ...fields
})

/** Bar 0, then the strategy buys 10 at market. */
const ordered = () =>
  run(fresh(), [
    { type: "bar", bar: bar(0, 100) },
    {
      type: "decision",
      ts: T0,
      orders: [{ symbol: "BTC/USD", side: "buy", type: "market", quantity: 10 }],
      cancels: []
    }
  ])

describe("DeploymentState on a broker account", () => {
  it("records an order as sending with the intent to send it; bars fill nothing", () => {
    const { state, events } = ordered()
    expect(audits(events)).toEqual(["risk:accepted", "order:sending"])
    expect(of(events, "order").map((e) => [e.order.clientOrderId, e.order.status, e.order.orderId])).toEqual([
      [CID, "sending", null]
    ])
    expect(of(events, "intent").map((e) => e.intent)).toEqual([
      {
        type: "send",
        request: { clientOrderId: CID, symbol: "BTC/USD", side: "buy", type: "market", quantity: 10 }
      }
    ])
    const later = run(state, [{ type: "bar", bar: bar(1, 90) }])
    expect(of(later.events, "fill")).toEqual([])
    expect(later.state.account.cash).toBe(10_000)
  })

  it("records the broker's order, and counts a fill once however often the broker reports it", () => {
    const placed = run(ordered().state, [
      { type: "placed", clientOrderId: CID, placement: { type: "order", order: brokerOrder() } },
      { type: "brokerFill", fill: fill() },
      { type: "brokerFill", fill: fill() },
      { type: "brokerFill", fill: fill({ id: "T9", orderId: "OTHER", clientOrderId: undefined }) }
    ])
    expect(
      of(placed.events, "order").map((e) => [e.order.orderId, e.order.status, e.order.placedAt])
    ).toEqual([["OABC", "filled", T0]])
    expect(of(placed.events, "fill").map((e) => e.fill.id)).toEqual(["T1"])
    expect(placed.state.account.cash).toBe(10_000 - 10 * 101 - 2)
    expect(placed.state.account.holdings.get("BTC/USD")).toEqual({ quantity: 10, averagePrice: 101 })
    expect(audits(placed.events)).toEqual(["order:placed"])
  })

  it("records an order the broker refused or never placed with the reason, and moves no money", () => {
    const refused = run(ordered().state, [
      {
        type: "placed",
        clientOrderId: CID,
        placement: { type: "refused", reason: "insufficientFunds", message: "no money" }
      }
    ])
    const orders = of(refused.events, "order").map((e): Partial<DeploymentOrder> => e.order)
    expect(orders).toMatchObject([
      { status: "rejected", orderId: null, reason: "insufficientFunds: no money" }
    ])
    expect(audits(refused.events)).toEqual(["order:refused"])
    expect(refused.state.account.working).toEqual([])
    expect(refused.state.account.cash).toBe(10_000)
    const unplaced = run(ordered().state, [
      { type: "placed", clientOrderId: CID, placement: { type: "unplaced", message: "never appeared" } }
    ])
    expect(of(unplaced.events, "order")[0]?.order).toMatchObject({
      status: "unplaced",
      reason: "never appeared"
    })
  })

  it("flattens through the broker: cancels open orders and sells at market, ending once flat", () => {
    const bought = run(ordered().state, [
      { type: "placed", clientOrderId: CID, placement: { type: "order", order: brokerOrder() } },
      { type: "brokerFill", fill: fill() },
      { type: "bar", bar: bar(1, 100) },
      {
        type: "decision",
        ts: T0 + MINUTE,
        orders: [{ symbol: "BTC/USD", side: "buy", type: "limit", quantity: 1, limitPrice: 50 }],
        cancels: []
      }
    ])
    const limitId = `7-${T0 + MINUTE}-0`
    const killed = run(bought.state, [{ type: "kill", message: "stop" }])
    expect(killed.state.mode).toBe("flattening")
    const sell = `7-${T0 + MINUTE}-flatten-BTC/USD`
    expect(of(killed.events, "intent").map((e) => e.intent)).toEqual([
      { type: "cancel", clientOrderId: limitId },
      {
        type: "send",
        request: { clientOrderId: sell, symbol: "BTC/USD", side: "sell", type: "market", quantity: 10 }
      }
    ])
    const flat = run(killed.state, [
      {
        type: "brokerOrder",
        order: brokerOrder({ orderId: "OLIM", clientOrderId: limitId, status: "canceled" })
      },
      {
        type: "placed",
        clientOrderId: sell,
        placement: {
          type: "order",
          order: brokerOrder({ orderId: "OSELL", clientOrderId: sell, side: "sell" })
        }
      },
      { type: "brokerFill", fill: fill({ id: "T2", orderId: "OSELL", clientOrderId: sell, side: "sell" }) }
    ])
    expect(flat.state.mode).toBe("ended")
    expect(of(flat.events, "status").map((e) => e.status)).toEqual(["killed"])
  })

  it("sells again at market on the next bar when a flattening sell ended unfilled", () => {
    const bought = run(ordered().state, [
      { type: "placed", clientOrderId: CID, placement: { type: "order", order: brokerOrder() } },
      { type: "brokerFill", fill: fill() },
      { type: "kill", message: "stop" }
    ])
    const first = `7-${T0}-flatten-BTC/USD`
    const lost = run(bought.state, [
      { type: "placed", clientOrderId: first, placement: { type: "unplaced", message: "never appeared" } }
    ])
    expect(lost.state.mode).toBe("flattening")
    const again = run(lost.state, [{ type: "bar", bar: bar(1, 100) }])
    expect(of(again.events, "intent").map((e) => e.intent)).toEqual([
      {
        type: "send",
        request: {
          clientOrderId: `7-${T0 + MINUTE}-flatten-BTC/USD`,
          symbol: "BTC/USD",
          side: "sell",
          type: "market",
          quantity: 10
        }
      }
    ])
  })

  it("is rebuilt with its sending orders working and its fills known, so nothing is sent or counted twice", () => {
    const { events } = ordered()
    const restored = restoreDeployment({
      id: 7,
      venue: "broker",
      limits,
      universe: ["BTC/USD"],
      settings: { quote: "USD", feeBps: 0, slippageBps: 0 },
      initialCash: 10_000,
      mode: "running",
      flattenAs: "killed",
      flattenMessage: "",
      lastBarTs: T0,
      dayStart: T0,
      dayStartEquity: 10_000,
      orders: of(events, "order").map((e) => ({ seq: e.seq, order: e.order })),
      fills: [fill({ id: "T0", clientOrderId: "7-0-0", orderId: "OOLD" })],
      marks: new Map([["BTC/USD", bar(0, 100)]])
    })
    expect(restored.account.working.map((w) => w.order.clientOrderId)).toEqual([CID])
    const again = run(restored, [
      {
        type: "decision",
        ts: T0,
        orders: [{ symbol: "BTC/USD", side: "buy", type: "market", quantity: 10 }],
        cancels: []
      },
      { type: "brokerFill", fill: fill({ id: "T0", clientOrderId: CID }) }
    ])
    expect(again.events).toEqual([])
  })

  it("audits a broker that holds less than the deployment expects, and not one that holds more", () => {
    const bought = run(ordered().state, [
      { type: "placed", clientOrderId: CID, placement: { type: "order", order: brokerOrder() } },
      { type: "brokerFill", fill: fill() }
    ])
    // Expected: 10_000 - 1_012 = 8_988 USD and 10 BTC.
    const more = run(bought.state, [
      {
        type: "brokerBalances",
        ts: T0 + MINUTE,
        balances: [
          { asset: "USD", total: 20_000 },
          { asset: "BTC", total: 10 },
          { asset: "ETH", total: 3 }
        ]
      }
    ])
    expect(more.events).toEqual([])
    const less = run(bought.state, [
      {
        type: "brokerBalances",
        ts: T0 + MINUTE,
        balances: [
          { asset: "USD", total: 8_988, available: 10 },
          { asset: "BTC", total: 4 }
        ]
      }
    ])
    expect(audits(less.events)).toEqual(["risk:balance-short"])
    const message = of(less.events, "audit")[0]!.entry.message
    expect(message).toContain("4 BTC where 10 is expected")
    expect(message).not.toContain("USD where")
    // Nothing else changes: the deployment keeps running with its own ledger.
    expect(less.state.mode).toBe("running")
    expect(less.state.account).toBe(bought.state.account)
    const none = run(bought.state, [{ type: "brokerBalances", ts: T0 + MINUTE, balances: [] }])
    expect(of(none.events, "audit")[0]!.entry.message).toContain("0 USD where 8988 is expected")
  })
})
