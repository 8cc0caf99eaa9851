import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Stream } from "effect"
import { history, listAssets } from "../../src/host/providerCalls"
import { FatalError, MalformedMessageError, RetryableError } from "../../src/sdk/errors"
import type { HistoryPage } from "../../src/sdk/types"
import { bar, contextFor, fakeProvider, MINUTE, NOW } from "./fakes"

const request = { symbol: "X", timeframe: "1m" as const, from: NOW - 10 * MINUTE, to: NOW }

const historyError = (thrown: unknown) => {
  const provider = fakeProvider({
    history: async function* () {
      yield { bars: [bar(NOW - 2 * MINUTE)] }
      throw thrown
    }
  })
  return Effect.flip(Stream.runDrain(history(provider, contextFor(provider), request)))
}

const listAssetsError = (thrown: unknown) => {
  const provider = fakeProvider({
    listAssets: async () => {
      throw thrown
    }
  })
  return Effect.flip(listAssets(provider, contextFor(provider)))
}

/** An error from another copy of the SDK (an uploaded provider's bundle) is matched by name. */
class ForeignFatal extends Error {
  override readonly name = "FatalError"
}

describe("ProviderRunner error mapping", () => {
  it.effect("RetryableError becomes ProviderRetryableError and keeps retryAfterMs", () =>
    Effect.gen(function* () {
      const error = yield* historyError(new RetryableError("429 too many requests", { retryAfterMs: 2_500 }))
      expect(error).toMatchObject({
        _tag: "ProviderRetryableError",
        provider: "fake",
        message: "429 too many requests",
        retryAfterMs: 2_500
      })
    })
  )

  it.effect("FatalError, also from another SDK copy, becomes ProviderFatalError", () =>
    Effect.gen(function* () {
      expect(yield* historyError(new FatalError("invalid api token"))).toMatchObject({
        _tag: "ProviderFatalError",
        message: "invalid api token"
      })
      expect(yield* listAssetsError(new ForeignFatal("unknown symbol"))).toMatchObject({
        _tag: "ProviderFatalError",
        message: "unknown symbol"
      })
    })
  )

  it.effect("malformed messages, network TypeErrors and timeouts are retryable", () =>
    Effect.gen(function* () {
      const malformed = yield* historyError(new MalformedMessageError("bad json", "{"))
      expect(malformed._tag).toBe("ProviderRetryableError")
      const network = yield* listAssetsError(new TypeError("fetch failed"))
      expect(network).toMatchObject({ _tag: "ProviderRetryableError", message: "fetch failed" })
      const timeout = yield* listAssetsError(new DOMException("The operation timed out.", "TimeoutError"))
      expect(timeout._tag).toBe("ProviderRetryableError")
    })
  )

  it.effect("anything else is retryable and marked as a provider bug", () =>
    Effect.gen(function* () {
      const error = yield* historyError(new TypeError("Cannot read properties of undefined (reading 'x')"))
      expect(error._tag).toBe("ProviderRetryableError")
      expect(error.message).toMatch(/^provider bug: Cannot read properties/)
      expect((yield* listAssetsError("a string")).message).toBe("provider bug: a string")
    })
  )

  it.effect("a network failure of ctx.fetch surfaces as retryable", () =>
    Effect.gen(function* () {
      const provider = fakeProvider({
        listAssets: async (ctx) => {
          await ctx.fetch("https://example.invalid/assets")
          return []
        }
      })
      const ctx = contextFor(provider, {
        fetch: () => Promise.reject(new TypeError("fetch failed", { cause: new Error("ECONNREFUSED") }))
      })
      const error = yield* Effect.flip(listAssets(provider, ctx))
      expect(error).toMatchObject({ _tag: "ProviderRetryableError", message: "fetch failed" })
    })
  )

  it.live("a page that takes longer than the timeout fails as retryable", () =>
    Effect.gen(function* () {
      const provider = fakeProvider({
        history: (ctx) => ({
          [Symbol.asyncIterator]: () => ({
            next: () =>
              new Promise<IteratorResult<HistoryPage>>((_, reject) =>
                ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason))
              )
          })
        })
      })
      const error = yield* Effect.flip(
        Stream.runDrain(history(provider, contextFor(provider), request, { timeout: "50 millis" }))
      )
      expect(error).toMatchObject({
        _tag: "ProviderRetryableError",
        message: "history page timed out after 50ms"
      })
    })
  )
})

describe("ProviderRunner interruption", () => {
  it.live("interrupting a history stream aborts the call's signal and calls the iterator's return()", () =>
    Effect.gen(function* () {
      const waiting = yield* Deferred.make<AbortSignal>()
      let returned = false
      const provider = fakeProvider({
        history: (ctx) => ({
          [Symbol.asyncIterator]: () => ({
            // Never settles, even on abort: the host must not wait for it to close the call.
            next: () => {
              Deferred.unsafeDone(waiting, Effect.succeed(ctx.signal))
              return new Promise<IteratorResult<HistoryPage>>(() => {})
            },
            return: async () => {
              returned = true
              return { done: true, value: undefined }
            }
          })
        })
      })
      const outer = new AbortController()
      const fiber = yield* Effect.fork(
        Stream.runDrain(history(provider, contextFor(provider, { signal: outer.signal }), request))
      )
      const signal = yield* Deferred.await(waiting)
      expect(signal.aborted).toBe(false)
      yield* Fiber.interrupt(fiber)
      expect(signal.aborted).toBe(true)
      expect(returned).toBe(true)
      expect(outer.signal.aborted).toBe(false)
    })
  )

  it.live("a consumer that stops early closes the provider's generator (its finally runs)", () =>
    Effect.gen(function* () {
      const log: Array<string> = []
      const provider = fakeProvider({
        history: async function* (ctx) {
          try {
            for (let i = 10; i > 0; i--) {
              yield { bars: [bar(NOW - i * MINUTE)] }
              // Parks on a signal-aware wait, as a polite provider does between requests.
              await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }))
            }
          } finally {
            log.push(`finally, aborted=${ctx.signal.aborted}`)
          }
        }
      })
      const chunks = yield* Stream.runCollect(
        history(provider, contextFor(provider), request).pipe(Stream.take(1))
      )
      expect(chunks.length).toBe(1)
      expect(log).toEqual(["finally, aborted=true"])
    })
  )

  it.live("aborting the context's own signal aborts the call too", () =>
    Effect.gen(function* () {
      const outer = new AbortController()
      const provider = fakeProvider({
        listAssets: (ctx) =>
          new Promise((_, reject) =>
            ctx.signal.addEventListener("abort", () => reject(new FatalError("cancelled by host")))
          )
      })
      const fiber = yield* Effect.fork(listAssets(provider, contextFor(provider, { signal: outer.signal })))
      yield* Effect.sleep("10 millis")
      outer.abort()
      const error = yield* Effect.flip(Fiber.join(fiber))
      expect(error._tag).toBe("ProviderFatalError")
    })
  )
})
