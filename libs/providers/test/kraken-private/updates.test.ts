/** Order updates: the pure reducer over polls, and the polling stream against the fake. */
import { randomUUID } from "node:crypto"
import { describe, expect, it } from "vitest"
import { krakenBroker } from "../../src/kraken/broker"
import {
  initialUpdates,
  ordersToQuery,
  reduceUpdates,
  tradesStart,
  type UpdatesState
} from "../../src/kraken/private/updates"
import type { BrokerEvent, BrokerOrder, Fill } from "../../src/sdk"
import { MINUTE, T0, useFakeKraken } from "./harness"

const order = (id: string, fields: Partial<BrokerOrder> = {}): BrokerOrder => ({
  orderId: id,
  clientOrderId: `c-${id}`,
  symbol: "XBT/USD",
  side: "buy",
  type: "limit",
  quantity: 1,
  filledQuantity: 0,
  limitPrice: 100,
  status: "open",
  createdAt: T0,
  ...fields
})

const fill = (id: string, orderId: string, ts: number): Fill => ({
  id,
  orderId,
  clientOrderId: undefined,
  symbol: "XBT/USD",
  side: "buy",
  quantity: 1,
  price: 100,
  fee: 0.26,
  ts
})

const types = (events: ReadonlyArray<BrokerEvent>) =>
  events.map((e) =>
    e.type === "order"
      ? `order ${e.order.orderId} ${e.order.status}`
      : e.type === "fill"
        ? `fill ${e.fill.id}`
        : e.type
  )

describe("order updates reducer", () => {
  it("reports every open order once, then only changes, and a heartbeat when nothing changed", () => {
    let state: UpdatesState = initialUpdates(T0)
    const first = reduceUpdates(state, { open: [order("A"), order("B")], queried: [], fills: [] })
    expect(types(first.events)).toEqual(["order A open", "order B open"])
    state = first.state
    const quiet = reduceUpdates(state, { open: [order("A"), order("B")], queried: [], fills: [] })
    expect(types(quiet.events)).toEqual(["heartbeat"])
    const partly = reduceUpdates(quiet.state, {
      open: [order("A", { filledQuantity: 0.5 }), order("B")],
      queried: [],
      fills: []
    })
    expect(types(partly.events)).toEqual(["order A open"])
  })

  it("looks up orders that left the open list and unknown orders that have fills", () => {
    const state = reduceUpdates(initialUpdates(T0), {
      open: [order("A"), order("B")],
      queried: [],
      fills: []
    }).state
    expect(ordersToQuery(state, [order("B")], [fill("T1", "A", T0 + 1), fill("T2", "C", T0 + 2)])).toEqual([
      "A",
      "C"
    ])
    expect(ordersToQuery(state, [order("A"), order("B")], [fill("T3", "B", T0 + 3)])).toEqual([])
  })

  it("yields fills first, oldest first, with the client order id of their order, each once", () => {
    const start = reduceUpdates(initialUpdates(T0), { open: [order("A")], queried: [], fills: [] }).state
    const filled = order("A", { status: "filled", filledQuantity: 1 })
    const step = reduceUpdates(start, {
      open: [],
      queried: [filled, order("C", { status: "filled", filledQuantity: 1 })],
      fills: [fill("T2", "C", T0 + 2_000), fill("T1", "A", T0 + 1_000)]
    })
    expect(types(step.events)).toEqual(["fill T1", "fill T2", "order A filled", "order C filled"])
    expect(step.events[0]).toMatchObject({ fill: { clientOrderId: "c-A" } })
    expect(step.events[1]).toMatchObject({ fill: { clientOrderId: "c-C" } })
    expect(step.state.since).toBe(T0 + 2_000)
    // TradesHistory asked from one second before the newest fill repeats it: it is dropped.
    expect(tradesStart(step.state)).toBe(Math.floor((T0 + 2_000) / 1_000) - 1)
    const again = reduceUpdates(step.state, { open: [], queried: [], fills: [fill("T2", "C", T0 + 2_000)] })
    expect(types(again.events)).toEqual(["heartbeat"])
    expect(ordersToQuery(again.state, [], [])).toEqual([])
  })
})

const env = useFakeKraken()

/** Pulls events until `done` says so (at most 200). */
const pull = async (
  stream: AsyncIterator<BrokerEvent>,
  done: (seen: ReadonlyArray<BrokerEvent>) => boolean
): Promise<Array<BrokerEvent>> => {
  const seen: Array<BrokerEvent> = []
  for (let i = 0; i < 200 && !done(seen); i++) {
    const next = await stream.next()
    if (next.done) break
    if (next.value.type !== "heartbeat") seen.push(next.value)
  }
  return seen
}

describe("order updates from the fake", () => {
  it("streams fills and order changes, and a restart from the last fill loses none", async () => {
    const ctx = env.ctx()
    const stream = krakenBroker.orderUpdates(ctx, { since: env.clock.now() })[Symbol.asyncIterator]()
    expect((await stream.next()).value).toEqual({ type: "heartbeat" })

    const market = await krakenBroker.placeOrder(ctx, {
      clientOrderId: randomUUID(),
      symbol: "XBT/USD",
      side: "buy",
      type: "market",
      quantity: 0.1
    })
    const limitPrice = Math.floor(env.fake.exchange.price("XBT/USD") / 2)
    const resting = await krakenBroker.placeOrder(ctx, {
      clientOrderId: randomUUID(),
      symbol: "XBT/USD",
      side: "buy",
      type: "limit",
      quantity: 0.1,
      limitPrice
    })
    const seen = await pull(stream, (s) => s.length >= 3)
    expect(seen).toEqual([
      {
        type: "fill",
        fill: expect.objectContaining({
          orderId: market.orderId,
          clientOrderId: market.clientOrderId,
          symbol: "XBT/USD",
          quantity: 0.1,
          liquidity: "taker"
        })
      },
      expect.objectContaining({
        type: "order",
        order: expect.objectContaining({ orderId: market.orderId, status: "filled" })
      }),
      expect.objectContaining({
        type: "order",
        order: expect.objectContaining({ orderId: resting.orderId, status: "open" })
      })
    ])

    await krakenBroker.cancelOrder(ctx, { orderId: resting.orderId })
    const cancelled = await pull(stream, (s) => s.length >= 1)
    expect(cancelled).toEqual([
      expect.objectContaining({
        order: expect.objectContaining({ orderId: resting.orderId, status: "canceled" })
      })
    ])
    await stream.return?.()

    // Started again from the time of the last fill recorded: the fill comes again, not lost.
    const fillTs = seen[0]?.type === "fill" ? seen[0].fill.ts : 0
    env.clock.advance(MINUTE)
    const restarted = krakenBroker.orderUpdates(ctx, { since: fillTs })[Symbol.asyncIterator]()
    const replay = await pull(restarted, (s) => s.some((e) => e.type === "fill"))
    expect(replay.filter((e) => e.type === "fill")).toEqual([seen[0]])
    await restarted.return?.()
  })

  it("stops when the host aborts", async () => {
    const controller = new AbortController()
    const ctx = env.ctx({ pollIntervalMs: 60_000 }, controller.signal)
    const stream = krakenBroker.orderUpdates(ctx, { since: env.clock.now() })[Symbol.asyncIterator]()
    expect((await stream.next()).value).toEqual({ type: "heartbeat" })
    const pending = stream.next()
    controller.abort()
    expect(await pending).toEqual({ done: true, value: undefined })
  })
})
