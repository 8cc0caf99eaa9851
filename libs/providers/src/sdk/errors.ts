/**
 * The two error classes a provider throws. The host retries `RetryableError` with backoff
 * (honouring `retryAfterMs`) and stops on `FatalError`, putting the subscription into an error
 * state with the message. Anything else thrown is treated as retryable and logged as a bug.
 */
export class RetryableError extends Error {
  override readonly name = "RetryableError"
  readonly retryAfterMs: number | undefined
  constructor(message: string, options?: { readonly retryAfterMs?: number; readonly cause?: unknown }) {
    super(message, { cause: options?.cause })
    this.retryAfterMs = options?.retryAfterMs
  }
}

export class FatalError extends Error {
  override readonly name = "FatalError"
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
