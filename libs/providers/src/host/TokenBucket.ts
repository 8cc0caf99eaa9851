/**
 * A token bucket for promise code: `take()` resolves when the caller may send one request.
 * Providers declare `rateLimit` once and every subscription shares it, so buckets live in a
 * registry keyed by provider name: two contexts for the same provider draw from one bucket.
 */

export interface RateLimit {
  readonly requestsPerSecond: number
  /** Requests that may go at once after a quiet spell (default 1: strictly spaced). */
  readonly burst?: number
}

export interface TokenBucket {
  readonly limit: RateLimit
  /** Waits for a token; rejects with the signal's reason if it aborts first. */
  take(signal?: AbortSignal): Promise<void>
}

/** Monotonic milliseconds; wall-clock jumps must not mint or swallow tokens. */
const monotonicNow = (): number => performance.now()

export const makeTokenBucket = (limit: RateLimit, now: () => number = monotonicNow): TokenBucket => {
  if (!(limit.requestsPerSecond > 0)) throw new RangeError("requestsPerSecond must be positive")
  const capacity = Math.max(1, limit.burst ?? 1)
  const msPerToken = 1_000 / limit.requestsPerSecond
  let tokens = capacity
  let updatedAt = now()
  // Waiters in arrival order, served by one timer that re-reads the clock when it fires: a timer
  // that fires late (a busy event loop) only lengthens the gap, it never lets two waiters out
  // together on tokens that were promised ahead of time.
  const waiters: Array<{ readonly resolve: () => void }> = []
  let timer: ReturnType<typeof setTimeout> | undefined

  const refill = () => {
    const t = now()
    tokens = Math.min(capacity, tokens + (t - updatedAt) / msPerToken)
    updatedAt = t
  }

  const serve = () => {
    timer = undefined
    refill()
    while (waiters.length > 0 && tokens >= 1) {
      tokens -= 1
      waiters.shift()!.resolve()
    }
    if (waiters.length > 0) timer = setTimeout(serve, Math.max(1, (1 - tokens) * msPerToken))
  }

  return {
    limit,
    take: (signal) => {
      if (signal?.aborted) return Promise.reject(signal.reason)
      refill()
      if (waiters.length === 0 && tokens >= 1) {
        tokens -= 1
        return Promise.resolve()
      }
      return new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          const at = waiters.indexOf(waiter)
          if (at >= 0) waiters.splice(at, 1)
          reject(signal?.reason)
        }
        const waiter = {
          resolve: () => {
            signal?.removeEventListener("abort", onAbort)
            resolve()
          }
        }
        waiters.push(waiter)
        signal?.addEventListener("abort", onAbort, { once: true })
        if (timer === undefined) timer = setTimeout(serve, Math.max(1, (1 - tokens) * msPerToken))
      })
    }
  }
}

/** Buckets by provider name; a provider whose declared limit changes (new version) gets a fresh one. */
export interface TokenBucketRegistry {
  forProvider(name: string, limit: RateLimit): TokenBucket
}

export const makeTokenBucketRegistry = (now: () => number = monotonicNow): TokenBucketRegistry => {
  const buckets = new Map<string, TokenBucket>()
  return {
    forProvider: (name, limit) => {
      const existing = buckets.get(name)
      if (
        existing &&
        existing.limit.requestsPerSecond === limit.requestsPerSecond &&
        existing.limit.burst === limit.burst
      )
        return existing
      const bucket = makeTokenBucket(limit, now)
      buckets.set(name, bucket)
      return bucket
    }
  }
}

/**
 * The process-wide registry: DataHub runs built-in providers in its own process and each
 * uploaded provider in its own child, so "per process" is "per provider" in both cases.
 */
export const sharedTokenBuckets: TokenBucketRegistry = makeTokenBucketRegistry()
