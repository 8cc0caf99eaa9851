/**
 * The one retry policy for provider calls: exponential backoff with jitter for retryable
 * failures, never for fatal ones, and never sooner than the provider asked (`retryAfterMs`,
 * e.g. from a 429's `Retry-After`), since hammering a rate-limited API only extends the ban.
 */
import type { ProviderError } from "@quasar/domain"
import { Duration, Effect, Schedule, Stream } from "effect"

export interface RetryOptions {
  /** Attempts in total, the first included (default 5). */
  readonly maxAttempts?: number
  /** Delay before the first retry; doubles each time (default 1 s). */
  readonly baseDelay?: Duration.DurationInput
  /** Longest backoff delay, before `retryAfterMs` is applied (default 1 min). */
  readonly maxDelay?: Duration.DurationInput
}

/**
 * Backoff (each delay of `backoff` capped at `maxDelay`) for as long as the failures are
 * `retryable`, each delay stretched to what the failure asks (`retryAfterMs`); the output carries
 * the delay and the failure it answers. Provider calls and broker calls wait alike.
 */
export const backoffWhile = <E>(options: {
  readonly backoff: Schedule.Schedule<Duration.Duration>
  readonly maxDelay: Duration.DurationInput
  readonly retryable: (error: E) => boolean
  readonly retryAfterMs: (error: E) => number | undefined
}) => {
  const maxDelay = Duration.decode(options.maxDelay)
  return options.backoff.pipe(
    Schedule.modifyDelay((_, delay) => Duration.min(delay, maxDelay)),
    // The last input rides along in the output so the delay can honour its `retryAfterMs`.
    Schedule.intersect(Schedule.identity<E>()),
    Schedule.modifyDelay(([, error], delay) => {
      const asked = options.retryAfterMs(error)
      return asked === undefined ? delay : Duration.max(delay, Duration.millis(asked))
    }),
    Schedule.whileInput(options.retryable)
  )
}

/** The schedule itself, for callers that drive retries on their own (e.g. reconnect loops). */
export const providerRetrySchedule = (
  options: RetryOptions = {}
): Schedule.Schedule<readonly [Duration.Duration, ProviderError], ProviderError> => {
  const maxAttempts = Math.max(1, options.maxAttempts ?? 5)
  return backoffWhile<ProviderError>({
    backoff: Schedule.exponential(options.baseDelay ?? Duration.seconds(1)).pipe(Schedule.jittered),
    maxDelay: options.maxDelay ?? Duration.minutes(1),
    retryable: (error) => error._tag === "ProviderRetryableError",
    retryAfterMs: (error) => (error._tag === "ProviderRetryableError" ? error.retryAfterMs : undefined)
  }).pipe(
    Schedule.intersect(Schedule.recurs(maxAttempts - 1)),
    // Only continuing steps reach here, so this logs real retries, not the final failure.
    Schedule.modifyDelayEffect(([[, error], retry], delay) =>
      Effect.logInfo("provider call failed; retrying").pipe(
        Effect.annotateLogs({
          provider: error.provider,
          error: error.message,
          retry: retry + 1,
          delay: Duration.format(delay)
        }),
        Effect.as(delay)
      )
    ),
    Schedule.map(([out]) => out)
  )
}

/** Retries a provider call by error class; the last error is returned when attempts run out. */
export const retryProviderCall =
  (options: RetryOptions = {}) =>
  <A, E extends ProviderError, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.retry(self, providerRetrySchedule(options))

/** The same policy for a stream: the whole stream is restarted (callers resume from their state). */
export const retryProviderStream =
  (options: RetryOptions = {}) =>
  <A, E extends ProviderError, R>(self: Stream.Stream<A, E, R>): Stream.Stream<A, E, R> =>
    Stream.retry(self, providerRetrySchedule(options))
