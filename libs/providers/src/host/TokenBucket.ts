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

  const refill = () => {
    const t = now()
    tokens = Math.min(capacity, tokens + (t - updatedAt) / msPerToken)
    updatedAt = t
  }

  return {
    limit,
    take: (signal) => {
      if (signal?.aborted) return Promise.reject(signal.reason)
      refill()
      // Reserve the token now (the balance may go negative) so waiters are served in arrival
      // order and each one's wait is known up front.
      tokens -= 1
      if (tokens >= 0) return Promise.resolve()
      const waitMs = -tokens * msPerToken
      return new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          clearTimeout(timer)
          // Give the reservation back: the request will not be sent.
          tokens += 1
          reject(signal?.reason)
        }
        const timer = setTimeout(() => {
          signal?.removeEventListener("abort", onAbort)
          resolve()
        }, waitMs)
        signal?.addEventListener("abort", onAbort, { once: true })
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
