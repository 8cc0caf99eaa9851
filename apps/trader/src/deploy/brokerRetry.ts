/**
 * How a deployment waits for its broker: a `BrokerUnavailable` (down, busy, or an order's fate not
 * known yet) is retried for as long as the deployment runs, with capped exponential backoff and
 * never sooner than the broker asked (`retryAfterMs`); a `BrokerRejected` is final. Nothing is
 * guessed in between: the call is made again (idempotent on the client order id) or the order is
 * looked up.
 */
import { Duration, Effect, Schedule } from "effect"
import type { BrokerError } from "../broker/BrokerHost"
import { whileBrokerUnavailable } from "../broker/brokerBackoff"

const BASE_DELAY = Duration.millis(500)
const MAX_DELAY = Duration.seconds(30)

export const brokerRetrySchedule: Schedule.Schedule<unknown, BrokerError> = whileBrokerUnavailable(
  Schedule.exponential(BASE_DELAY),
  MAX_DELAY
).pipe(
  Schedule.tapInput((error: BrokerError) =>
    Effect.logInfo("the broker is unavailable; retrying").pipe(
      Effect.annotateLogs({ broker: error.broker, reason: error.reason, error: error.message })
    )
  )
)

/** Retries a broker call while the broker is unavailable; fails only with what it rejects. */
export const whileUnavailable = <A, R>(self: Effect.Effect<A, BrokerError, R>) =>
  Effect.retry(self, brokerRetrySchedule)
