import { Either } from "effect"
import { describe, expect, it, vi } from "vitest"
import { makeProviderContext } from "../../src/host/context"
import {
  makeTokenBucket,
  makeTokenBucketRegistry,
  sharedTokenBuckets,
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
  it("two contexts of the same provider share one rate, spaced on the clock", async () => {
    vi.useFakeTimers()
    try {
      const sent: Array<number> = []
      const fetch: typeof globalThis.fetch = async () => {
        sent.push(Date.now())
        return new Response("ok")
      }
      const buckets = makeTokenBucketRegistry(() => Date.now())
      const provider = fakeProvider({ name: "limited", rateLimit: { requestsPerSecond: 20 } })
      const a = contextOf(provider, fetch, buckets)
      const b = contextOf(provider, fetch, buckets)
      const start = Date.now()
      const all = Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).fetch("http://x.test/"))
      )
      await vi.advanceTimersByTimeAsync(1_000)
      await all
      // 20/s with no burst: the first goes at once, the other nine 50 ms apart.
      expect(sent.map((t) => t - start)).toEqual(Array.from({ length: 10 }, (_, i) => i * 50))
    } finally {
      vi.useRealTimers()
    }
  })

  it("a stalled event loop lets one waiter out, then spaces the rest again", async () => {
    vi.useFakeTimers()
    try {
      // The bucket's clock runs on while timers cannot fire, as when the event loop is busy.
      let now = 0
      const bucket = makeTokenBucket({ requestsPerSecond: 20 }, () => now)
      const released: Array<number> = []
      await bucket.take()
      const waits = Array.from({ length: 4 }, () => bucket.take().then(() => released.push(now)))
      now = 400
      await vi.advanceTimersByTimeAsync(60)
      expect(released).toEqual([400])
      for (const step of [450, 500, 550]) {
        now = step
        await vi.advanceTimersByTimeAsync(50)
      }
      await Promise.all(waits)
      expect(released).toEqual([400, 450, 500, 550])
    } finally {
      vi.useRealTimers()
    }
  })

  it("contexts built without a registry draw on the process-wide one", () => {
    const limit = { requestsPerSecond: 5 }
    expect(sharedTokenBuckets.forProvider("shared", limit)).toBe(
      sharedTokenBuckets.forProvider("shared", limit)
    )
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
