/**
 * What a broker throws, as the host's two errors, with a message that says what to do. Matching
 * is by `name` as well as by class: uploaded code bundles its own copy of the SDK, and errors
 * from the sandbox child arrive as plain `{ name, message, reason, retryAfterMs }`.
 */
import type { BrokerErrorReason } from "@quasar/providers/sdk"
import { type BrokerError, BrokerRejected, BrokerUnavailable } from "./BrokerHost"

const REASONS: ReadonlySet<string> = new Set<BrokerErrorReason>([
  "insufficientFunds",
  "unknownSymbol",
  "invalidOrder",
  "invalidCredentials",
  "unknownOrder",
  "nonce",
  "rateLimited",
  "unavailable",
  "stateUnknown"
])

/** What the operator or the caller does next, by reason. */
const ADVICE: Readonly<Record<BrokerErrorReason, string>> = {
  insufficientFunds: "nothing was placed; fund the account or reduce the order",
  unknownSymbol: "nothing was placed; check the symbol mapping for this broker",
  invalidOrder: "nothing was placed; fix the order (size, precision, prices) to the broker's rules",
  invalidCredentials: "check the broker's API key, secret and permissions in its settings",
  unknownOrder: "the broker has no such order; reconcile with openOrders",
  nonce: "the request was refused before it was handled; it may be sent again",
  rateLimited: "the broker is throttling this account; retry later",
  unavailable: "the broker did not answer; retry later",
  stateUnknown: "the order may exist: look it up with findOrder by client order id before anything else"
}

interface Thrown {
  readonly name: string
  readonly message: string
  readonly reason: BrokerErrorReason | undefined
  readonly retryAfterMs: number | undefined
}

const field = (error: unknown, key: string): unknown =>
  typeof error === "object" && error !== null ? (error as Record<string, unknown>)[key] : undefined

const thrown = (error: unknown): Thrown => {
  const name = field(error, "name")
  const message = field(error, "message")
  const reason = field(error, "reason")
  const retryAfterMs = field(error, "retryAfterMs")
  return {
    name: typeof name === "string" ? name : "Error",
    message: typeof message === "string" ? message : typeof error === "string" ? error : "the broker failed",
    reason: typeof reason === "string" && REASONS.has(reason) ? (reason as BrokerErrorReason) : undefined,
    retryAfterMs:
      typeof retryAfterMs === "number" && Number.isFinite(retryAfterMs) && retryAfterMs >= 0
        ? retryAfterMs
        : undefined
  }
}

const withAdvice = (message: string, reason: BrokerErrorReason | undefined): string =>
  reason === undefined ? message : `${message} (${ADVICE[reason]})`

/** True when the error is one of the host's own (already mapped). */
export const isBrokerError = (error: unknown): error is BrokerError =>
  error instanceof BrokerRejected || error instanceof BrokerUnavailable

export interface Mapped {
  readonly error: BrokerError
  /** The broker threw something the SDK does not define: a bug on its side, logged as such. */
  readonly bug: boolean
}

/**
 * `FatalError` → `BrokerRejected`, `RetryableError` → `BrokerUnavailable`. A timeout or network
 * failure is `unavailable`, and `stateUnknown` for `placeOrder` (`call`), since the request may have
 * reached the broker. Anything else is retryable and flagged as a bug.
 */
export const mapBrokerError = (broker: string, call: string, error: unknown): Mapped => {
  if (isBrokerError(error)) return { error, bug: false }
  const t = thrown(error)
  const placing = call === "placeOrder"
  if (t.name === "FatalError") {
    const reason = t.reason ?? "invalidOrder"
    return {
      error: new BrokerRejected({ broker, reason, message: withAdvice(t.message, t.reason) }),
      bug: false
    }
  }
  if (t.name === "RetryableError") {
    const reason = t.reason ?? (placing ? "stateUnknown" : "unavailable")
    return {
      error: new BrokerUnavailable({
        broker,
        reason,
        message: withAdvice(t.message, reason),
        ...(t.retryAfterMs === undefined ? {} : { retryAfterMs: t.retryAfterMs })
      }),
      bug: false
    }
  }
  const network =
    t.name === "TimeoutError" ||
    t.name === "AbortError" ||
    (t.name === "TypeError" && /fetch|network/i.test(t.message))
  const reason: BrokerErrorReason = placing ? "stateUnknown" : "unavailable"
  return {
    error: new BrokerUnavailable({
      broker,
      reason,
      message: withAdvice(network ? t.message : `${call} failed unexpectedly: ${t.message}`, reason)
    }),
    bug: !network
  }
}

/** The error for a call the host stopped waiting for. */
export const timedOut = (broker: string, call: string, ms: number): BrokerUnavailable => {
  const reason: BrokerErrorReason = call === "placeOrder" ? "stateUnknown" : "unavailable"
  return new BrokerUnavailable({
    broker,
    reason,
    message: withAdvice(`${call} got no answer within ${ms} ms`, reason)
  })
}
