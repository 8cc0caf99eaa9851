/**
 * How Trader waits for a broker: a `BrokerUnavailable` (down, busy, or an order's fate not known
 * yet) is retried with capped backoff, never sooner than the broker asked (`retryAfterMs`); a
 * `BrokerRejected` (bad credentials, say) ends it, since retrying cannot help.
 */
import { backoffWhile } from "@quasar/providers/host"
import type { Duration, Schedule } from "effect"
import type { BrokerError } from "./BrokerHost"

/** `backoff`, each delay capped at `maxDelay`, while the broker is unavailable; outputs the delay and the error. */
export const whileBrokerUnavailable = (
  backoff: Schedule.Schedule<Duration.Duration>,
  maxDelay: Duration.DurationInput
) =>
  backoffWhile<BrokerError>({
    backoff,
    maxDelay,
    retryable: (error) => error._tag === "BrokerUnavailable",
    retryAfterMs: (error) => (error._tag === "BrokerUnavailable" ? error.retryAfterMs : undefined)
  })
