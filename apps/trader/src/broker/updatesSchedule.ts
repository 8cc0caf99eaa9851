/**
 * When `orderUpdates` starts the broker's iterable again: exponential backoff with jitter after a
 * retryable failure, never sooner than the broker asked (`retryAfterMs`), for as long as the
 * stream is wanted; a `BrokerRejected` (bad credentials, say) stops it, since retrying cannot help.
 * `Stream.retry` resets the schedule once an event passes, so a long-lived stream that fails now
 * and then starts again quickly.
 */
import { Duration, Effect, Schedule } from "effect"
import type { BrokerError } from "./BrokerHost"
import { whileBrokerUnavailable } from "./brokerBackoff"

export interface RestartOptions {
  /** Delay before the first restart; doubles each time (default 1 s). */
  readonly baseDelay?: Duration.DurationInput
  /** Longest delay, before `retryAfterMs` is applied (default 1 min). */
  readonly maxDelay?: Duration.DurationInput
}

export const updatesRestartSchedule = (
  options: RestartOptions = {}
): Schedule.Schedule<Duration.Duration, BrokerError> =>
  whileBrokerUnavailable(
    Schedule.exponential(options.baseDelay ?? Duration.seconds(1)).pipe(Schedule.jittered),
    options.maxDelay ?? Duration.minutes(1)
  ).pipe(
    Schedule.modifyDelayEffect(([, error], delay) =>
      Effect.logInfo("broker order updates failed; restarting").pipe(
        Effect.annotateLogs({
          broker: error.broker,
          reason: error.reason,
          error: error.message,
          delay: Duration.format(delay)
        }),
        Effect.as(delay)
      )
    ),
    Schedule.map(([delay]) => delay)
  )
