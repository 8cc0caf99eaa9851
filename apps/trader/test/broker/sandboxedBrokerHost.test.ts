/** kraken-broker in its sandbox child against the fake Kraken, through the production BrokerHost. */
import { randomUUID } from "node:crypto"
import type { OrderRequest } from "@quasar/providers/sdk"
import { Chunk, Effect, Option, Stream } from "effect"
import { describe, expect, it } from "vitest"
import { BrokerHost } from "../../src/broker/BrokerHost"
import { useSandboxedBrokers } from "./support"

const env = useSandboxedBrokers({ callTimeout: "1500 millis" })

const order = (fields: Partial<OrderRequest> = {}): OrderRequest => ({
  clientOrderId: randomUUID(),
  symbol: "XBT/USD",
  side: "buy",
  type: "market",
  quantity: 0.25,
  ...fields
})

const open = Effect.flatMap(BrokerHost, (host) => host.open("kraken-broker"))

describe("the sandboxed BrokerHost with kraken-broker", () => {
  // Each test opens its own account in a child of its own: kraken-broker's rate limit (15 requests,
  // then one every 3 s) paces one account's requests, and a test stays within the burst.
  it("places an order once per client order id, finds it and streams its fill", async () => {
    const since = Date.now() - 1_000
    const result = await env.run(
      Effect.gen(function* () {
        const account = yield* env.account()
        const handle = yield* open
        const request = order()
        const first = yield* handle.placeOrder(request)
        const again = yield* handle.placeOrder(request)
        const found = yield* handle.findOrder({ clientOrderId: request.clientOrderId })
        const balances = yield* handle.balances
        const fill = yield* handle.orderUpdates(since).pipe(
          Stream.filter((e) => e.type === "fill"),
          Stream.take(1),
          Stream.runCollect
        )
        return { request, first, again, found, balances, fill, state: env.fake.exchange.account(account.key) }
      })
    )
    expect(result.first).toMatchObject({ clientOrderId: result.request.clientOrderId, status: "filled" })
    expect(result.again.orderId).toBe(result.first.orderId)
    expect(result.state.orders).toHaveLength(1)
    expect(Option.getOrThrow(result.found).orderId).toBe(result.first.orderId)
    expect(result.balances.find((b) => b.asset === "BTC")?.total).toBeCloseTo(1.25, 8)
    expect(Chunk.toReadonlyArray(result.fill)[0]).toMatchObject({
      type: "fill",
      fill: { orderId: result.first.orderId, clientOrderId: result.request.clientOrderId }
    })
  })

  it("lists open orders and cancels one", async () => {
    const { resting, listed, canceled, state } = await env.run(
      Effect.gen(function* () {
        const account = yield* env.account()
        const handle = yield* open
        const resting = yield* handle.placeOrder(
          order({ type: "limit", limitPrice: Math.floor(env.fake.exchange.price("XBT/USD") / 2) })
        )
        const listed = yield* handle.openOrders
        const canceled = yield* handle.cancelOrder({ orderId: resting.orderId })
        return { resting, listed, canceled, state: env.fake.exchange.account(account.key) }
      })
    )
    expect(resting).toMatchObject({ status: "open", filledQuantity: 0 })
    expect(listed.map((o) => o.orderId)).toEqual([resting.orderId])
    expect(canceled).toMatchObject({ orderId: resting.orderId, status: "canceled" })
    expect(state.orders.map((o) => o.status)).toEqual(["canceled"])
  })

  it("refuses a wrong API secret as invalidCredentials and places nothing", async () => {
    const wrong = Buffer.from("not the secret of this key").toString("base64")
    const { error, state } = await env.run(
      Effect.gen(function* () {
        const account = yield* env.account(undefined, wrong)
        const handle = yield* open
        const error = yield* Effect.flip(handle.placeOrder(order()))
        return { error, state: env.fake.exchange.account(account.key) }
      })
    )
    expect(error).toMatchObject({
      _tag: "BrokerRejected",
      broker: "kraken-broker",
      reason: "invalidCredentials"
    })
    expect(error.message).toMatch(/settings/)
    expect(state.orders).toHaveLength(0)
  })

  it("refuses an order the balance cannot cover as insufficientFunds", async () => {
    const error = await env.run(
      Effect.gen(function* () {
        yield* env.account({ ZUSD: 10 })
        const handle = yield* open
        return yield* Effect.flip(handle.placeOrder(order()))
      })
    )
    expect(error).toMatchObject({ _tag: "BrokerRejected", reason: "insufficientFunds" })
    expect(error.message).toMatch(/nothing was placed/)
  })

  it("says stateUnknown when the answer comes after the timeout, and findOrder then tells the truth", async () => {
    const { error, found, state } = await env.run(
      Effect.gen(function* () {
        const account = yield* env.account()
        const handle = yield* open
        env.fake.exchange.delayAnswers(4_000, 1, "AddOrder")
        const request = order()
        const error = yield* Effect.flip(handle.placeOrder(request))
        const found = yield* handle.findOrder({ clientOrderId: request.clientOrderId })
        return { error, found, state: env.fake.exchange.account(account.key) }
      })
    )
    expect(error).toMatchObject({ _tag: "BrokerUnavailable", reason: "stateUnknown" })
    expect(error.message).toMatch(/findOrder/)
    expect(Option.getOrThrow(found)).toMatchObject({ status: "filled", orderId: state.orders[0]?.txid })
    expect(state.orders).toHaveLength(1)
  })

  it("sends a request refused for its nonce again, and says `nonce` when it keeps being refused", async () => {
    const { balances, error, state } = await env.run(
      Effect.gen(function* () {
        const account = yield* env.account()
        const handle = yield* open
        env.fake.exchange.invalidNonce(1)
        const balances = yield* handle.balances
        env.fake.exchange.invalidNonce(2)
        const error = yield* Effect.flip(handle.placeOrder(order()))
        return { balances, error, state: env.fake.exchange.account(account.key) }
      })
    )
    expect(balances).toHaveLength(2)
    expect(error).toMatchObject({ _tag: "BrokerUnavailable", reason: "nonce" })
    expect(state.orders).toHaveLength(0)
  })
})
