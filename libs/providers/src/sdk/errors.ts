/**
 * The two error classes a provider or broker throws. The host retries `RetryableError` with
 * backoff (honouring `retryAfterMs`) and stops on `FatalError`, putting the subscription or the
 * order into an error state with the message. Anything else thrown is treated as retryable and
 * logged as a bug.
 *
 * A broker also says *why* with a `reason` the host can show and act on (see `BrokerErrorReason`).
 */

/**
 * Why a broker call failed, in terms the host can act on:
 * - `insufficientFunds`: the balance cannot cover the order; nothing was placed, no money moved.
 * - `unknownSymbol`: the broker does not trade that symbol.
 * - `invalidOrder`: the order breaks the broker's rules (minimum size, precision, missing price).
 * - `invalidCredentials`: the API key, secret or signature was refused, or lacks a permission.
 * - `unknownOrder`: no order has that id at the broker.
 * - `nonce`: the request's nonce was refused; a new request gets a new one.
 * - `rateLimited`, `unavailable`: the broker is busy or down; try again later.
 * - `stateUnknown`: the broker did not answer an order request and the order is not visible yet:
 *   it may or may not exist. Never guess: look it up by client order id (`findOrder`) before
 *   anything else, after `retryAfterMs` (when the broker guarantees the order can no longer appear).
 */
export type BrokerErrorReason =
  | "insufficientFunds"
  | "unknownSymbol"
  | "invalidOrder"
  | "invalidCredentials"
  | "unknownOrder"
  | "nonce"
  | "rateLimited"
  | "unavailable"
  | "stateUnknown"

export interface SdkErrorOptions {
  readonly cause?: unknown
  readonly reason?: BrokerErrorReason
}

export class RetryableError extends Error {
  override readonly name = "RetryableError"
  readonly retryAfterMs: number | undefined
  readonly reason: BrokerErrorReason | undefined
  constructor(message: string, options?: SdkErrorOptions & { readonly retryAfterMs?: number }) {
    super(message, { cause: options?.cause })
    this.retryAfterMs = options?.retryAfterMs
    this.reason = options?.reason
  }
}

export class FatalError extends Error {
  override readonly name = "FatalError"
  readonly reason: BrokerErrorReason | undefined
  constructor(message: string, options?: SdkErrorOptions) {
    super(message, { cause: options?.cause })
    this.reason = options?.reason
  }
}

/** A message from the provider's API that cannot be understood; skip it, keep going. */
export class MalformedMessageError extends Error {
  override readonly name = "MalformedMessageError"
  readonly raw: string
  constructor(message: string, raw: string) {
    super(message)
    this.raw = raw.length > 500 ? `${raw.slice(0, 500)}…` : raw
  }
}
