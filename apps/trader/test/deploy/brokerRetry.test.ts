import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, TestClock } from "effect"
import { BrokerRejected, BrokerUnavailable } from "../../src/broker/BrokerHost"
import { whileUnavailable } from "../../src/deploy/brokerRetry"

describe("whileUnavailable", () => {
  it.effect(
    "retries while the broker is unavailable, never sooner than it asks, and stops at a rejection",
    () =>
      Effect.gen(function* () {
        let calls = 0
        const call = Effect.suspend(() => {
          calls++
          return calls < 3
            ? Effect.fail(
                new BrokerUnavailable({
                  broker: "b",
                  reason: "unavailable",
                  message: "down",
                  retryAfterMs: 10_000
                })
              )
            : Effect.succeed("ok")
        })
        const fiber = yield* Effect.fork(whileUnavailable(call))
        yield* TestClock.adjust("9 seconds")
        expect(calls).toBe(1)
        yield* TestClock.adjust("1 second")
        expect(calls).toBe(2)
        yield* TestClock.adjust("10 seconds")
        expect(yield* Fiber.join(fiber)).toBe("ok")
        expect(calls).toBe(3)

        let rejections = 0
        const refused = yield* Effect.flip(
          whileUnavailable(
            Effect.suspend(() => {
              rejections++
              return Effect.fail(
                new BrokerRejected({ broker: "b", reason: "insufficientFunds", message: "no" })
              )
            })
          )
        )
        expect(refused._tag).toBe("BrokerRejected")
        expect(rejections).toBe(1)
      })
  )

  it.effect("backs off exponentially up to 30 s between attempts when the broker gives no time", () =>
    Effect.gen(function* () {
      let calls = 0
      const fiber = yield* Effect.fork(
        whileUnavailable(
          Effect.suspend(() => {
            calls++
            return Effect.fail(new BrokerUnavailable({ broker: "b", reason: "unavailable", message: "down" }))
          })
        )
      )
      // 0.5, 1, 2, 4, 8, 16, then 30 s each.
      yield* TestClock.adjust("31.5 seconds")
      expect(calls).toBe(7)
      yield* TestClock.adjust("29 seconds")
      expect(calls).toBe(7)
      yield* TestClock.adjust("1 second")
      expect(calls).toBe(8)
      yield* Fiber.interrupt(fiber)
    })
  )
})
