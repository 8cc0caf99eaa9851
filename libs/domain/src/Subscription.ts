import { Schema } from "effect"
import { MarketSymbol, ProviderName, SerialId, Timestamp } from "./Common"
import { Timeframe } from "./Timeframe"

export const SubscriptionMode = Schema.Literal("history", "live", "both")
export type SubscriptionMode = typeof SubscriptionMode.Type

export const SubscriptionId = SerialId.pipe(Schema.brand("SubscriptionId"))
export type SubscriptionId = typeof SubscriptionId.Type

export const SubscriptionStatus = Schema.Literal("backfilling", "current", "paused", "error")

/** Collection state kept in the database so any DataHub can resume it after a restart. */
export const SubscriptionState = Schema.Struct({
  status: SubscriptionStatus,
  lastBarAt: Schema.NullOr(Timestamp),
  nextRunAt: Schema.NullOr(Timestamp),
  lastError: Schema.NullOr(Schema.String),
  backfillProgress: Schema.Number.pipe(Schema.between(0, 100))
})

/** Collect (provider, symbol, timeframe) in the given mode, back to `backfillFrom`. */
export class Subscription extends Schema.Class<Subscription>("Subscription")({
  id: SubscriptionId,
  provider: ProviderName,
  symbol: MarketSymbol,
  timeframe: Timeframe,
  mode: SubscriptionMode,
  backfillFrom: Schema.NullOr(Timestamp),
  state: SubscriptionState,
  createdAt: Timestamp,
  /** The DataHub runner that collects it (the owner of its provider); null while none has taken it. */
  runner: Schema.optional(Schema.NullOr(Schema.String))
}) {}
