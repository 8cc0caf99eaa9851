import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { makeProviderContext } from "../../src/host/context"
import {
  makeTokenBucket,
  makeTokenBucketRegistry,
  type TokenBucketRegistry
} from "../../src/host/TokenBucket"
import { fakeProvider, quietLogger } from "./fakes"

const contextOf = (
  provider: ReturnType<typeof fakeProvider>,
  fetch: typeof globalThis.fetch,
  buckets?: TokenBucketRegistry
) =>
  Either.getOrThrow(
    makeProviderContext({
      provider,
      settings: {},
      fetch,
      connect: () => Promise.reject(new Error("unused")),
      logger: quietLogger,
      signal: new AbortController().signal,
      buckets
    })
  )

describe("TokenBucket", () => {
  it("two contexts of the same provider share one rate", async () => {
    const sent: Array<number> = []
    const fetch: typeof globalThis.fetch = async () => {
      sent.push(performance.now())
      return new Response("ok")
    }
    // Built with the process-wide registry, as DataHub builds one context per subscription.
    const provider = fakeProvider({ name: "limited", rateLimit: { requestsPerSecond: 20 } })
    const a = contextOf(provider, fetch)
    const b = contextOf(provider, fetch)
    const start = performance.now()
    await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).fetch("http://x.test/")))
    // 20/s with no burst: the first goes at once, the other nine 50 ms apart.
    expect(performance.now() - start).toBeGreaterThanOrEqual(9 * 50 - 5)
    // A late timer may let the next request follow closer than 50 ms (the bucket refilled in
    // the meantime), but no window of the run holds more than the rate allows: j - i requests
    // after request i take at least (j - i - 1) × 50 ms.
    for (let i = 0; i < sent.length; i++)
      for (let j = i + 2; j < sent.length; j++)
        expect(sent[j]! - sent[i]!).toBeGreaterThanOrEqual((j - i - 1) * 50 - 5)
  })

  it("different providers do not share a bucket, and a burst goes at once", async () => {
    const buckets = makeTokenBucketRegistry()
    const limit = { requestsPerSecond: 1, burst: 3 }
    expect(buckets.forProvider("a", limit)).toBe(buckets.forProvider("a", limit))
    expect(buckets.forProvider("a", limit)).not.toBe(buckets.forProvider("b", limit))
    const bucket = buckets.forProvider("c", limit)
    const start = performance.now()
    await Promise.all([bucket.take(), bucket.take(), bucket.take()])
    expect(performance.now() - start).toBeLessThan(50)
  })

  it("refills over time on its clock", async () => {
    let now = 0
    const bucket = makeTokenBucket({ requestsPerSecond: 10, burst: 2 }, () => now)
    await bucket.take()
    await bucket.take()
    now = 200
    const start = performance.now()
    await bucket.take()
    await bucket.take()
    expect(performance.now() - start).toBeLessThan(50)
  })

  it("an aborted wait rejects and gives its token back", async () => {
    let now = 0
    const bucket = makeTokenBucket({ requestsPerSecond: 1 }, () => now)
    await bucket.take()
    const controller = new AbortController()
    const waiting = bucket.take(controller.signal)
    controller.abort(new Error("unsubscribed"))
    await expect(waiting).rejects.toThrow("unsubscribed")
    now = 1_000
    const start = performance.now()
    await bucket.take()
    expect(performance.now() - start).toBeLessThan(50)
  })

  it("a provider without a rate limit is not throttled", async () => {
    const ctx = contextOf(fakeProvider({ name: "free" }), async () => new Response("ok"))
    const start = performance.now()
    await Promise.all(Array.from({ length: 20 }, () => ctx.fetch("http://x.test/")))
    expect(performance.now() - start).toBeLessThan(100)
  })
})
