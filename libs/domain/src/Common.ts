import { Schema } from "effect"

/** A provider or broker name: lower-case slug, as used in URLs and table keys. */
export const ProviderName = Schema.String.pipe(
  Schema.pattern(/^[a-z][a-z0-9_-]{0,63}$/),
  Schema.brand("ProviderName")
).annotations({
  identifier: "ProviderName",
  description: "lower-case letters, digits, '-' or '_', starting with a letter (e.g. kraken)"
})
export type ProviderName = typeof ProviderName.Type

/**
 * A row id as the database stores it (`serial`/`integer`): 1 to 2³¹−1. Larger numbers cannot name
 * a row, so they are refused as bad input instead of overflowing in a query.
 */
export const SerialId = Schema.Int.pipe(Schema.between(1, 2_147_483_647)).annotations({
  identifier: "SerialId",
  description: "a positive id, at most 2147483647"
})

/** A symbol as a provider, broker or user writes it (`XBT/USD`, `AAPL.US`, `BTC/USD`). */
export const MarketSymbol = Schema.String.pipe(
  Schema.trimmed(),
  Schema.minLength(1),
  Schema.maxLength(64),
  Schema.pattern(/^[^\s]+$/),
  // No symbol has control characters, and PostgreSQL text cannot store NUL at all.
  Schema.filter((s) => ![...s].some((c) => c < " " || c === "\u007f") || "control characters are not allowed")
).annotations({
  identifier: "Symbol",
  description: "1–64 characters, no spaces or control characters (e.g. BTC/USD, AAPL.US)"
})

/** An instant on the wire: ISO 8601 in UTC. */
export const Timestamp = Schema.DateTimeUtc.annotations({
  identifier: "Timestamp",
  description: "ISO 8601 instant, e.g. 2024-01-02T03:04:00Z"
})
