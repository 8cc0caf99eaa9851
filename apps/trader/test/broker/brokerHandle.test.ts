/**
 * The host's handle over scripted broker calls, on the TestClock: timeouts (an order's is
 * stateUnknown), SDK errors mapped with what to do, malformed results refused, annotated logs per
 * call, and orderUpdates restarted from the last fill after retryable failures until a fatal one.
 */
import { describe, expect, it } from "@effect/vitest"
import { FatalError, RetryableError } from "@quasar/providers/sdk"
import { Effect, Fiber, HashMap, Logger, Option, Ref, Stream, TestClock } from "effect"
import type { BrokerCalls } from "../../src/broker/BrokerCalls"
import { makeBrokerHandle } from "../../src/broker/brokerHandle"

const order = {
  orderId: "O1",
  clientOrderId: "c1",
  symbol: "XBT/USD",
  side: "buy",
  type: "market",
  quantity: 1,
  filledQuantity: 1,
  status: "filled",
  createdAt: 0
} as const

const fill = (id: string, ts: number) => ({
  type: "fill" as const,
  fill: {
    id,
    orderId: "O1",
    clientOrderId: "c1",
    symbol: "XBT/USD",
    side: "buy" as const,
    quantity: 1,
    price: 10,
    fee: 0,
    ts
  }
})

const never = Effect.never as Effect.Effect<unknown, unknown>
const calls = (overrides: Partial<BrokerCalls>): BrokerCalls => ({
  placeOrder: () => never,
  cancelOrder: () => never,
  findOrder: () => never,
  openOrders: never,
  positions: never,
  balances: never,
  orderUpdates: () => Stream.never,
  ...overrides
})

const handleOf = (overrides: Partial<BrokerCalls>) =>
  makeBrokerHandle({ broker: "b", version: 3, calls: calls(overrides), callTimeout: "10 seconds" })

const request = { clientOrderId: "c1", symbol: "XBT/USD", side: "buy", type: "market", quantity: 1 } as const

describe("the broker handle", () => {
  it.effect(
    "turns an order call that outlives its timeout into stateUnknown, other calls into unavailable",
    () =>
      Effect.gen(function* () {
        const handle = handleOf({})
        const placing = yield* Effect.fork(Effect.flip(handle.placeOrder(request)))
        const listing = yield* Effect.fork(Effect.flip(handle.balances))
        yield* TestClock.adjust("10 seconds")
        const placed = yield* Fiber.join(placing)
        expect(placed).toMatchObject({ _tag: "BrokerUnavailable", reason: "stateUnknown", broker: "b" })
        expect(placed.message).toMatch(/findOrder by client order id/)
        expect(yield* Fiber.join(listing)).toMatchObject({ _tag: "BrokerUnavailable", reason: "unavailable" })
      })
  )

  it.effect("maps SDK errors by class and reason, with what to do", () =>
    Effect.gen(function* () {
      const handle = handleOf({
        placeOrder: () => Effect.fail(new FatalError("balance too low", { reason: "insufficientFunds" })),
        balances: Effect.fail(
          new RetryableError("slow down", { reason: "rateLimited", retryAfterMs: 3_000 })
        ),
        openOrders: Effect.fail(new TypeError("fetch failed")),
        positions: Effect.fail(new Error("boom"))
      })
      expect(yield* Effect.flip(handle.placeOrder(request))).toMatchObject({
        _tag: "BrokerRejected",
        reason: "insufficientFunds",
        message: "balance too low (nothing was placed; fund the account or reduce the order)"
      })
      expect(yield* Effect.flip(handle.balances)).toMatchObject({
        _tag: "BrokerUnavailable",
        reason: "rateLimited",
        retryAfterMs: 3_000
      })
      expect(yield* Effect.flip(handle.openOrders)).toMatchObject({
        _tag: "BrokerUnavailable",
        reason: "unavailable"
      })
      expect((yield* Effect.flip(handle.positions)).message).toMatch(/^positions failed unexpectedly: boom/)
    })
  )

  it.effect("refuses malformed results and passes sound ones on", () =>
    Effect.gen(function* () {
      const handle = handleOf({
        placeOrder: () => Effect.succeed({ ...order, quantity: "lots" }),
        findOrder: () => Effect.succeed(undefined),
        cancelOrder: () => Effect.succeed({ ...order, extra: "dropped" })
      })
      const malformed = yield* Effect.flip(handle.placeOrder(request))
      expect(malformed).toMatchObject({ _tag: "BrokerUnavailable", reason: "stateUnknown" })
      expect(malformed.message).toMatch(/malformed result/)
      expect(yield* handle.findOrder({ orderId: "O1" })).toEqual(Option.none())
      expect(yield* handle.cancelOrder({ orderId: "O1" })).toEqual(order)
    })
  )

  it.effect("logs each failed call with the broker, the client order id and the reason", () =>
    Effect.gen(function* () {
      const lines = yield* Ref.make<ReadonlyArray<{ message: string; annotations: Record<string, unknown> }>>(
        []
      )
      const logger = Logger.make(({ message, annotations }) => {
        Effect.runSync(
          Ref.update(lines, (l) => [
            ...l,
            {
              message: String(Array.isArray(message) ? message[0] : message),
              annotations: Object.fromEntries(HashMap.toEntries(annotations))
            }
          ])
        )
      })
      const handle = handleOf({
        placeOrder: () => Effect.fail(new FatalError("no such pair", { reason: "unknownSymbol" }))
      })
      yield* Effect.flip(handle.placeOrder(request)).pipe(
        Effect.provide(Logger.replace(Logger.defaultLogger, logger))
      )
      const line = (yield* Ref.get(lines)).find((l) => l.message === "broker placeOrder failed")
      expect(line?.annotations).toMatchObject({ broker: "b", clientOrderId: "c1", reason: "unknownSymbol" })
    })
  )

  it.effect(
    "restarts orderUpdates from the last fill after retryable failures, telling the caller each time, and stops on a fatal one",
    () =>
      Effect.gen(function* () {
        const asked = yield* Ref.make<ReadonlyArray<number>>([])
        const lives: ReadonlyArray<Stream.Stream<unknown, unknown>> = [
          Stream.concat(Stream.make(fill("t1", 100)), Stream.fail(new RetryableError("poll failed"))),
          // Ends without an error: restarted too.
          Stream.make({ type: "heartbeat" }, fill("t2", 200)),
          Stream.fail(new FatalError("key revoked", { reason: "invalidCredentials" }))
        ]
        const handle = makeBrokerHandle({
          broker: "b",
          version: 1,
          restart: { baseDelay: "1 second" },
          calls: calls({
            orderUpdates: (since) =>
              Stream.unwrap(
                Effect.map(
                  Ref.getAndUpdate(asked, (a) => [...a, since]),
                  (before) => lives[before.length] ?? Stream.never
                )
              )
          })
        })
        const restarts = yield* Ref.make(0)
        const running = yield* Effect.fork(
          Stream.runCollect(
            handle.orderUpdates(
              50,
              Ref.update(restarts, (n) => n + 1)
            )
          ).pipe(Effect.either)
        )
        for (let i = 0; i < 5; i++) yield* TestClock.adjust("1 minute")
        const result = yield* Fiber.join(running)
        expect(yield* Ref.get(asked)).toEqual([50, 100, 200])
        expect(yield* Ref.get(restarts)).toBe(2)
        expect(result._tag).toBe("Left")
        if (result._tag === "Left")
          expect(result.left).toMatchObject({ _tag: "BrokerRejected", reason: "invalidCredentials" })
      })
  )
})
