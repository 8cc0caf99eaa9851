/**
 * Credential throttling: the pure rule (`recordFailure`, `waitMillis`) and the service that keeps
 * it per client address, driven by `TestClock`.
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, TestClock } from "effect"
import { AuthThrottle, recordFailure, waitMillis } from "../src/AuthThrottle"

const policy = { maxFailures: 3, windowSeconds: 60 }
const SECOND = 1_000

describe("the throttling rule", () => {
  it("lets a client try until it has failed maxFailures times within the window", () => {
    let failures: ReadonlyArray<number> = []
    for (const t of [0, 10, 20]) {
      expect(waitMillis(policy, failures, t * SECOND)).toBe(0)
      failures = recordFailure(policy, failures, t * SECOND)
    }
    // Blocked until the first of the three failures is a window old.
    expect(waitMillis(policy, failures, 20 * SECOND)).toBe(40 * SECOND)
    expect(waitMillis(policy, failures, 59 * SECOND)).toBe(1 * SECOND)
    expect(waitMillis(policy, failures, 60 * SECOND)).toBe(0)
  })

  it("allows at most maxFailures guesses per window, however they are spread", () => {
    let failures: ReadonlyArray<number> = []
    let guesses = 0
    // A client guessing as fast as it is let through, for ten minutes, one attempt per second.
    for (let t = 0; t < 600 * SECOND; t += SECOND) {
      if (waitMillis(policy, failures, t) > 0) continue
      guesses++
      failures = recordFailure(policy, failures, t)
    }
    expect(guesses).toBe(3 * 10)
  })

  it("forgets failures older than the window and keeps at most maxFailures", () => {
    const failures = recordFailure(policy, [0, 1_000, 2_000, 3_000], 61_500)
    expect(failures).toEqual([2_000, 3_000, 61_500])
    expect(recordFailure(policy, [0], 120 * SECOND)).toEqual([120 * SECOND])
  })
})

describe("the AuthThrottle service", () => {
  it.effect(
    "blocks a client after maxFailures wrong credentials until the window passes; others are not affected",
    () =>
      Effect.gen(function* () {
        const throttle = AuthThrottle.make(policy)
        for (let i = 0; i < 3; i++) {
          expect(yield* throttle.retryAfterSeconds("10.0.0.1")).toBe(0)
          yield* throttle.failed("10.0.0.1")
          yield* TestClock.adjust(Duration.seconds(5))
        }
        expect(yield* throttle.retryAfterSeconds("10.0.0.1")).toBe(45)
        expect(yield* throttle.retryAfterSeconds("10.0.0.2")).toBe(0)
        yield* TestClock.adjust(Duration.seconds(44))
        expect(yield* throttle.retryAfterSeconds("10.0.0.1")).toBe(1)
        yield* TestClock.adjust(Duration.seconds(1))
        expect(yield* throttle.retryAfterSeconds("10.0.0.1")).toBe(0)
      })
  )

  it.effect("remembers a bounded number of clients, dropping stale ones first", () =>
    Effect.gen(function* () {
      const throttle = AuthThrottle.make(policy)
      yield* throttle.failed("stale")
      yield* TestClock.adjust(Duration.seconds(61))
      for (let i = 0; i < 3; i++) yield* throttle.failed("blocked")
      for (let i = 0; i < 9_998; i++) yield* throttle.failed(`client-${i}`)
      // The table is full: a newcomer takes the stale client's place, not the blocked one's.
      yield* throttle.failed("newcomer")
      expect(yield* throttle.retryAfterSeconds("blocked")).toBe(60)
    })
  )
})
