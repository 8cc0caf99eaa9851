/**
 * An order request whose answer never comes: the broker reconciles by client order id and never
 * guesses. Kraken's AddOrder `deadline` bounds how long the order may still appear.
 */
import { randomUUID } from "node:crypto"
import { describe, expect, it } from "vitest"
import { krakenBroker } from "../../src/kraken/broker"
import { type OrderRequest, RetryableError } from "../../src/sdk"
import { rawPost, until, useFakeKraken } from "./harness"

const env = useFakeKraken()

/** Answers later than this count as lost (generous: a loaded machine must not lose the lookups). */
const TIMEOUT_MS = 500
const ctx = () => env.ctx({ requestTimeoutMs: TIMEOUT_MS, orderDeadlineMs: 15_000 })
const state = env.state

const marketBuy = (): OrderRequest => ({
  clientOrderId: randomUUID(),
  symbol: "XBT/USD",
  side: "buy",
  type: "market",
  quantity: 0.25
})

const rejection = async (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => {
      throw new Error("expected a rejection")
    },
    (error: unknown) => error
  )

describe("Kraken broker: an order whose answer is lost", () => {
  it("finds the order by its client order id when the connection drops after it executed", async () => {
    env.fake.exchange.dropAfterExecuting()
    const request = marketBuy()
    const placed = await krakenBroker.placeOrder(ctx(), request)
    expect(placed).toMatchObject({
      clientOrderId: request.clientOrderId,
      status: "filled",
      filledQuantity: 0.25
    })
    expect(state().orders).toHaveLength(1)
    expect(state().balances.XXBT).toBe(1.25)
  })

  it("finds the order when the answer comes after the timeout", async () => {
    env.fake.exchange.delayAnswers(TIMEOUT_MS * 4, 1, "AddOrder")
    const request = marketBuy()
    const placed = await krakenBroker.placeOrder(ctx(), request)
    expect(placed).toMatchObject({ clientOrderId: request.clientOrderId, status: "filled" })
    expect(state().orders).toHaveLength(1)
    await env.fake.exchange.settled()
    expect(state().orders).toHaveLength(1)
  })

  it("says the state is unknown while the order may still arrive, and never sends it twice", async () => {
    env.fake.exchange.queueRequests(TIMEOUT_MS * 4, 1, "AddOrder")
    const request = marketBuy()
    const error = await rejection(krakenBroker.placeOrder(ctx(), request))
    expect(error).toBeInstanceOf(RetryableError)
    expect(error).toMatchObject({ reason: "stateUnknown", retryAfterMs: 20_000 })
    expect(state().orders).toHaveLength(0)
    // Asked again before the deadline: it looks, finds nothing, and still does not send it.
    const requests = env.fake.exchange.stats.requests
    expect(await rejection(krakenBroker.placeOrder(ctx(), request))).toMatchObject({ reason: "stateUnknown" })
    expect(env.fake.exchange.stats.requests - requests).toBe(2)
    // Kraken's engine gets to it within its deadline and executes it: that is the order.
    await env.fake.exchange.settled()
    expect(state().orders).toHaveLength(1)
    const placed = await krakenBroker.placeOrder(ctx(), request)
    expect(placed).toMatchObject({ orderId: state().orders[0]?.txid, status: "filled" })
    expect(state().orders).toHaveLength(1)
    expect(state().balances.XXBT).toBe(1.25)
  })

  it("places it once after the deadline when Kraken rejected the queued request", async () => {
    env.fake.exchange.queueRequests(TIMEOUT_MS * 4, 1, "AddOrder")
    const request = marketBuy()
    expect(await rejection(krakenBroker.placeOrder(ctx(), request))).toMatchObject({ reason: "stateUnknown" })
    env.clock.advance(16_000)
    await env.fake.exchange.settled()
    // Past the deadline the matching engine rejected it ("EService:Deadline elapsed").
    expect(state().orders).toHaveLength(0)
    // Within the margin for clock differences the broker still does not guess.
    expect(await rejection(krakenBroker.placeOrder(ctx(), request))).toMatchObject({ reason: "stateUnknown" })
    env.clock.advance(5_000)
    const placed = await krakenBroker.placeOrder(ctx(), request)
    expect(placed).toMatchObject({ clientOrderId: request.clientOrderId, status: "filled" })
    expect(state().orders).toHaveLength(1)
    expect(state().balances.XXBT).toBe(1.25)
  })

  it("takes the open order another client placed with the same id in between", async () => {
    // Another process with a second API key of the same account (its own nonces).
    const other = env.fake.exchange.addAccount({
      key: `other-${randomUUID()}`,
      sameAccountAs: env.account.key
    })
    const limitPrice = Math.floor(env.fake.exchange.price("XBT/USD") / 2)
    const request: OrderRequest = { ...marketBuy(), type: "limit", limitPrice }
    env.fake.exchange.queueRequests(300, 1, "AddOrder")
    const before = env.fake.exchange.stats.requests
    const placing = krakenBroker.placeOrder(ctx(), request)
    // OpenOrders and ClosedOrders found nothing; the AddOrder is queued.
    await until(() => env.fake.exchange.stats.requests === before + 3)
    const theirs = await rawPost(env.fake, "AddOrder", {
      ...other,
      nonce: 1,
      params: {
        pair: "XBTUSD",
        type: "buy",
        ordertype: "limit",
        price: String(limitPrice),
        volume: "0.25",
        cl_ord_id: request.clientOrderId
      }
    })
    expect(theirs.error).toEqual([])
    const placed = await placing
    expect(placed).toMatchObject({ clientOrderId: request.clientOrderId, status: "open" })
    expect(placed.orderId).toBe((theirs.result as { txid: Array<string> }).txid[0])
    expect(state().orders).toHaveLength(1)
  })
})
