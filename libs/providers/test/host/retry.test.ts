import { describe, expect, it } from "@effect/vitest"
import { type ProviderError, ProviderFatalError, ProviderRetryableError } from "@quasar/domain"
import { Effect, Fiber, Ref, TestClock } from "effect"
import { retryProviderCall } from "../../src/host/retry"

const retryable = (retryAfterMs?: number) =>
  new ProviderRetryableError({ provider: "fake", message: "503", retryAfterMs })
const fatal = new ProviderFatalError({ provider: "fake", message: "bad token" })

/** A call that fails with `errors[i]` on attempt i and succeeds once they run out. */
const flaky = (attempts: Ref.Ref<number>, errors: ReadonlyArray<ProviderError>) =>
  Ref.getAndUpdate(attempts, (n) => n + 1).pipe(
    Effect.flatMap((n) => (n < errors.length ? Effect.fail(errors[n]!) : Effect.succeed("ok")))
  )

describe("retryProviderCall", () => {
  it.effect("retries retryable failures with growing, jittered delays", () =>
    Effect.gen(function* () {
      const attempts = yield* Ref.make(0)
      const fiber = yield* Effect.fork(
        flaky(attempts, [retryable(), retryable()]).pipe(retryProviderCall({ baseDelay: "1 second" }))
      )
      yield* TestClock.adjust("700 millis")
      expect(yield* Ref.get(attempts)).toBe(1)
      // First delay is 1 s ± 20 %.
      yield* TestClock.adjust("600 millis")
      expect(yield* Ref.get(attempts)).toBe(2)
      // That retry ran in [0.8 s, 1.2 s]; the next waits 2 s ± 20 %, so it runs in [2.4 s, 3.6 s].
      yield* TestClock.adjust("900 millis")
      expect(yield* Ref.get(attempts)).toBe(2)
      yield* TestClock.adjust("1500 millis")
      expect(yield* Fiber.join(fiber)).toBe("ok")
      expect(yield* Ref.get(attempts)).toBe(3)
    })
  )

  it.effect("never retries a fatal failure", () =>
    Effect.gen(function* () {
      const attempts = yield* Ref.make(0)
      const error = yield* Effect.flip(flaky(attempts, [fatal, retryable()]).pipe(retryProviderCall()))
      expect(error).toBe(fatal)
      expect(yield* Ref.get(attempts)).toBe(1)
    })
  )

  it.effect("stops retrying when a retry ends in a fatal failure", () =>
    Effect.gen(function* () {
      const attempts = yield* Ref.make(0)
      const fiber = yield* Effect.fork(
        flaky(attempts, [retryable(), fatal, retryable()]).pipe(retryProviderCall({ baseDelay: "1 second" }))
      )
      yield* TestClock.adjust("1 minute")
      expect(yield* Effect.flip(Fiber.join(fiber))).toBe(fatal)
      expect(yield* Ref.get(attempts)).toBe(2)
    })
  )

  it.effect("waits at least retryAfterMs when the provider asks for it", () =>
    Effect.gen(function* () {
      const attempts = yield* Ref.make(0)
      const fiber = yield* Effect.fork(
        flaky(attempts, [retryable(10_000)]).pipe(retryProviderCall({ baseDelay: "1 second" }))
      )
      yield* TestClock.adjust("9 seconds")
      expect(yield* Ref.get(attempts)).toBe(1)
      yield* TestClock.adjust("1 second")
      expect(yield* Fiber.join(fiber)).toBe("ok")
      expect(yield* Ref.get(attempts)).toBe(2)
    })
  )

  it.effect("gives up after maxAttempts with the last error, delays capped at maxDelay", () =>
    Effect.gen(function* () {
      const attempts = yield* Ref.make(0)
      const errors = Array.from({ length: 10 }, () => retryable())
      const fiber = yield* Effect.fork(
        flaky(attempts, errors).pipe(
          retryProviderCall({ maxAttempts: 4, baseDelay: "1 second", maxDelay: "2 seconds" })
        )
      )
      // Delays: ~1 s, then 2 s, 2 s (capped).
      yield* TestClock.adjust("5500 millis")
      const error = yield* Effect.flip(Fiber.join(fiber))
      expect(error._tag).toBe("ProviderRetryableError")
      expect(yield* Ref.get(attempts)).toBe(4)
    })
  )
})
