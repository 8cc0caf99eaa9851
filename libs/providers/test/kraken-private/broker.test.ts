/** The Kraken broker against the fake Kraken: every endpoint, idempotency, errors that move no money. */
import { randomUUID } from "node:crypto"
import { describe, expect, it } from "vitest"
import { builtinBrokers } from "../../src/builtins"
import { krakenBroker } from "../../src/kraken/broker"
import { FatalError, type OrderRequest, RetryableError } from "../../src/sdk"
import { openAccount, useFakeKraken } from "./harness"

const env = useFakeKraken()
const ctx = env.ctx
const state = env.state

const order = (fields: Partial<OrderRequest> = {}): OrderRequest => ({
  clientOrderId: randomUUID(),
  symbol: "XBT/USD",
  side: "buy",
  type: "market",
  quantity: 0.25,
  ...fields
})

/** A limit buy at half the market price: it rests. */
const restingBuy = (fields: Partial<OrderRequest> = {}) =>
  order({ type: "limit", limitPrice: Math.floor(env.fake.exchange.price("XBT/USD") / 2), ...fields })

/** What a rejected promise was rejected with. */
const failure = async (promise: Promise<unknown>): Promise<unknown> => {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error("expected a rejection")
}

describe("Kraken broker: account", () => {
  it("is a built-in broker module whose API key and secret are sealed secrets", async () => {
    expect(krakenBroker).toMatchObject({ kind: "broker", sdkVersion: 1, name: "kraken-broker" })
    const [builtin] = builtinBrokers
    expect(builtin?.name).toBe(krakenBroker.name)
    expect(((await import(String(builtin?.entry.href))) as { default: unknown }).default).toBe(krakenBroker)
    expect(krakenBroker.settings.apiKey).toMatchObject({ secret: true, required: true })
    expect(krakenBroker.settings.apiSecret).toMatchObject({ secret: true, required: true })
  })

  it("lists the pairs it trades like the provider does", async () => {
    const assets = await krakenBroker.listAssets(ctx())
    expect(assets).toHaveLength(13)
    expect(assets.find((a) => a.symbol === "XBT/USD")).toMatchObject({ base: "BTC", quote: "USD" })
  })

  it("reports balances under canonical asset codes and non-cash holdings as positions", async () => {
    expect(await krakenBroker.balances(ctx())).toEqual([
      { asset: "USD", total: 100_000 },
      { asset: "BTC", total: 1 }
    ])
    expect(await krakenBroker.positions(ctx())).toEqual([{ symbol: "XBT/USD", quantity: 1 }])
    expect(await krakenBroker.positions(ctx({ cashAsset: "EUR" }))).toEqual([
      { symbol: "USD/EUR", quantity: 100_000 },
      { symbol: "XBT/EUR", quantity: 1 }
    ])
  })
})

describe("Kraken broker: orders", () => {
  it("places a market order, which fills at the market price and moves the money once", async () => {
    const price = env.fake.exchange.price("XBT/USD")
    const request = order()
    const placed = await krakenBroker.placeOrder(ctx(), request)
    expect(placed).toMatchObject({
      clientOrderId: request.clientOrderId,
      symbol: "XBT/USD",
      side: "buy",
      type: "market",
      quantity: 0.25,
      filledQuantity: 0.25,
      status: "filled",
      createdAt: env.clock.now()
    })
    expect(placed.averagePrice).toBeCloseTo(price, 4)
    expect(placed.fee).toBeCloseTo(0.25 * price * 0.0026, 4)
    expect(state().balances.XXBT).toBe(1.25)
    expect(await krakenBroker.positions(ctx())).toEqual([{ symbol: "XBT/USD", quantity: 1.25 }])
  })

  it("places the same client order id twice as one order", async () => {
    const request = order()
    const first = await krakenBroker.placeOrder(ctx(), request)
    const second = await krakenBroker.placeOrder(ctx(), request)
    expect(second.orderId).toBe(first.orderId)
    expect(state().orders).toHaveLength(1)
    expect(state().balances.XXBT).toBe(1.25)
    // Concurrently too: the second call joins the placement under way.
    const resting = restingBuy()
    const both = await Promise.all([
      krakenBroker.placeOrder(ctx(), resting),
      krakenBroker.placeOrder(ctx(), resting)
    ])
    expect(both[0].orderId).toBe(both[1].orderId)
    expect(state().orders.filter((o) => o.clOrdId === resting.clientOrderId)).toHaveLength(1)
  })

  it("lists, finds and cancels a resting order; cancelling again returns it as it stands", async () => {
    const request = restingBuy()
    const placed = await krakenBroker.placeOrder(ctx(), request)
    expect(placed).toMatchObject({ status: "open", filledQuantity: 0, limitPrice: request.limitPrice })
    expect((await krakenBroker.openOrders(ctx())).map((o) => o.orderId)).toEqual([placed.orderId])
    expect(await krakenBroker.findOrder(ctx(), { clientOrderId: request.clientOrderId })).toEqual(placed)
    expect(await krakenBroker.findOrder(ctx(), { orderId: placed.orderId })).toEqual(placed)
    const cancelled = await krakenBroker.cancelOrder(ctx(), { clientOrderId: request.clientOrderId })
    expect(cancelled).toMatchObject({ orderId: placed.orderId, status: "canceled", reason: "User requested" })
    expect(await krakenBroker.cancelOrder(ctx(), { orderId: placed.orderId })).toEqual(cancelled)
    expect(await krakenBroker.openOrders(ctx())).toEqual([])
    expect(state().available("ZUSD")).toBe(100_000)
    expect(await krakenBroker.findOrder(ctx(), { clientOrderId: randomUUID() })).toBeUndefined()
    expect(await krakenBroker.findOrder(ctx(), { orderId: "OAAAAA-AAAAA-AAAAAA" })).toBeUndefined()
    const unknown = await failure(krakenBroker.cancelOrder(ctx(), { orderId: "OAAAAA-AAAAA-AAAAAA" }))
    expect(unknown).toBeInstanceOf(FatalError)
    expect(unknown).toMatchObject({ reason: "unknownOrder" })
  })

  it("places stop and stop-limit orders as Kraken's stop-loss and stop-loss-limit", async () => {
    const price = env.fake.exchange.price("XBT/USD")
    const stop = await krakenBroker.placeOrder(
      ctx(),
      order({ type: "stop", stopPrice: Math.ceil(price * 1.5) })
    )
    expect(stop).toMatchObject({ type: "stop", stopPrice: Math.ceil(price * 1.5), status: "open" })
    const stopLimit = await krakenBroker.placeOrder(
      ctx(),
      order({
        type: "stop",
        side: "sell",
        quantity: 0.5,
        stopPrice: Math.floor(price / 2),
        limitPrice: 1_000
      })
    )
    expect(stopLimit).toMatchObject({ type: "stop", stopPrice: Math.floor(price / 2), limitPrice: 1_000 })
    expect(state().orders.map((o) => o.ordertype)).toEqual(["stop-loss", "stop-loss-limit"])
  })
})

describe("Kraken broker: refusals move no money", () => {
  const expectNothingMoved = () => {
    expect(state().balances).toEqual({ ZUSD: 100_000, XXBT: 1 })
    expect(state().orders).toHaveLength(0)
  }

  it("an order the balance cannot cover", async () => {
    const error = await failure(krakenBroker.placeOrder(ctx(), order({ quantity: 5 })))
    expect(error).toBeInstanceOf(FatalError)
    expect(error).toMatchObject({ reason: "insufficientFunds" })
    expect(String(error)).toContain("EOrder:Insufficient funds")
    expectNothingMoved()
  })

  it("an unknown symbol, before anything is sent", async () => {
    const before = env.fake.exchange.stats.requests
    const error = await failure(krakenBroker.placeOrder(ctx(), order({ symbol: "NOPE/USD" })))
    expect(error).toMatchObject({ reason: "unknownSymbol" })
    expect(env.fake.exchange.stats.requests).toBe(before)
    expectNothingMoved()
  })

  it("a malformed order or client order id, before anything is sent", async () => {
    const before = env.fake.exchange.stats.requests
    for (const bad of [
      order({ type: "limit" }),
      order({ quantity: -1 }),
      order({ type: "market", stopPrice: 5 }),
      order({ clientOrderId: "much-too-long-for-kraken-ids" })
    ])
      expect(await failure(krakenBroker.placeOrder(ctx(), bad))).toMatchObject({ reason: "invalidOrder" })
    expect(env.fake.exchange.stats.requests).toBe(before)
    expectNothingMoved()
  })

  it("a wrong API key, a wrong secret, a secret that is not base64", async () => {
    const other = openAccount(env.fake)
    for (const overrides of [{ apiKey: "not-a-key" }, { apiSecret: other.secret }, { apiSecret: "%%%" }]) {
      const error = await failure(krakenBroker.placeOrder(ctx(overrides), order()))
      expect(error).toBeInstanceOf(FatalError)
      expect(error).toMatchObject({ reason: "invalidCredentials" })
    }
    expectNothingMoved()
  })

  it("a price finer than the pair's tick", async () => {
    const error = await failure(krakenBroker.placeOrder(ctx(), restingBuy({ limitPrice: 1_000.00001 })))
    expect(error).toMatchObject({ reason: "invalidOrder" })
    expect(String(error)).toContain("EOrder:Tick size check failed")
    expectNothingMoved()
  })

  it("a rejection injected by the fake, retryable or not by its kind", async () => {
    env.fake.exchange.failOrders("EService:Unavailable")
    const busy = await failure(krakenBroker.placeOrder(ctx(), order()))
    expect(busy).toBeInstanceOf(RetryableError)
    expect(busy).toMatchObject({ reason: "unavailable" })
    env.fake.exchange.failOrders("EOrder:Insufficient funds")
    expect(await failure(krakenBroker.placeOrder(ctx(), order()))).toMatchObject({
      reason: "insufficientFunds"
    })
    expectNothingMoved()
  })
})

describe("Kraken broker: nonces", () => {
  it("keeps nonces increasing across concurrent calls of one key", async () => {
    const calls = Array.from({ length: 25 }, (_, i) =>
      i % 2 === 0 ? krakenBroker.balances(ctx()) : krakenBroker.openOrders(ctx())
    )
    const results = await Promise.all(calls)
    expect(results).toHaveLength(25)
    expect(state().orders).toHaveLength(0)
  })

  it("sends a request refused for its nonce once more, and says `nonce` when it keeps failing", async () => {
    env.fake.exchange.invalidNonce(1)
    expect(await krakenBroker.balances(ctx())).toHaveLength(2)
    env.fake.exchange.invalidNonce(2)
    const error = await failure(krakenBroker.placeOrder(ctx(), order()))
    expect(error).toBeInstanceOf(RetryableError)
    expect(error).toMatchObject({ reason: "nonce" })
    expect(state().orders).toHaveLength(0)
  })
})
