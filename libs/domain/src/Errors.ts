/**
 * Typed errors. Each says what went wrong and what to do about it; the HTTP status travels with
 * the class so servers, clients and the OpenAPI document agree. Retryable and fatal provider
 * failures are different types, so retry policies can never confuse them.
 */
import { HttpApiSchema } from "@effect/platform"
import { Schema } from "effect"

export class NotFound extends Schema.TaggedError<NotFound>()(
  "NotFound",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 404 })
) {}

export class InvalidRequest extends Schema.TaggedError<InvalidRequest>()(
  "InvalidRequest",
  { message: Schema.String, field: Schema.optional(Schema.String) },
  HttpApiSchema.annotations({ status: 400 })
) {}

export class Conflict extends Schema.TaggedError<Conflict>()(
  "Conflict",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 409 })
) {}

export class Unauthorized extends Schema.TaggedError<Unauthorized>()(
  "Unauthorized",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 401 })
) {}

export class Forbidden extends Schema.TaggedError<Forbidden>()(
  "Forbidden",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 403 })
) {}

/**
 * Too many wrong credentials from this client address: nothing is checked until
 * `retryAfterSeconds` have passed (the same value is in the `Retry-After` header).
 */
export class TooManyAttempts extends Schema.TaggedError<TooManyAttempts>()(
  "TooManyAttempts",
  { message: Schema.String, retryAfterSeconds: Schema.Int },
  HttpApiSchema.annotations({ status: 429 })
) {}

/** The request body is larger than the endpoint accepts; nothing of it was read. */
export class PayloadTooLarge extends Schema.TaggedError<PayloadTooLarge>()(
  "PayloadTooLarge",
  { message: Schema.String, limitBytes: Schema.Int },
  HttpApiSchema.annotations({ status: 413 })
) {}

/** The request body's `Content-Type` is not one the endpoint documents. */
export class UnsupportedMediaType extends Schema.TaggedError<UnsupportedMediaType>()(
  "UnsupportedMediaType",
  { message: Schema.String, accepted: Schema.Array(Schema.String) },
  HttpApiSchema.annotations({ status: 415 })
) {}

/** A request body must declare its size (`Content-Length`), so it can be refused before it is read. */
export class LengthRequired extends Schema.TaggedError<LengthRequired>()(
  "LengthRequired",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 411 })
) {}

/** A dependency (database, the other service) is down; retry later. */
export class ServiceUnavailable extends Schema.TaggedError<ServiceUnavailable>()(
  "ServiceUnavailable",
  { message: Schema.String },
  HttpApiSchema.annotations({ status: 503 })
) {}

/** A provider call failed in a way that may succeed later (rate limit, outage, timeout). */
export class ProviderRetryableError extends Schema.TaggedError<ProviderRetryableError>()(
  "ProviderRetryableError",
  {
    provider: Schema.String,
    message: Schema.String,
    /** The provider's own hint (e.g. `Retry-After`), when it gave one. */
    retryAfterMs: Schema.optional(Schema.Number)
  }
) {}

/** A provider call failed in a way that retrying cannot fix (bad token, unknown symbol, plan limit). */
export class ProviderFatalError extends Schema.TaggedError<ProviderFatalError>()("ProviderFatalError", {
  provider: Schema.String,
  message: Schema.String
}) {}

export type ProviderError = ProviderRetryableError | ProviderFatalError
