/** DataHub: what to collect. */
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { AdminAuth, ServiceAuth } from "./Auth"
import { BodyPolicy } from "./BodyPolicy"
import { MarketSymbol, ProviderName, Timestamp } from "./Common"
import { Conflict, InvalidRequest, NotFound } from "./Errors"
import { Subscription, SubscriptionId, SubscriptionMode, SubscriptionStatus } from "./Subscription"
import { Timeframe } from "./Timeframe"

export const CreateSubscription = Schema.Struct({
  provider: ProviderName,
  /** The provider's own symbol (`XBT/USD`); or give `commonSymbol` and it is resolved by mapping. */
  symbol: Schema.optional(MarketSymbol),
  commonSymbol: Schema.optional(MarketSymbol),
  timeframes: Schema.NonEmptyArray(Timeframe).pipe(Schema.maxItems(8)),
  mode: SubscriptionMode,
  backfillFrom: Schema.optional(Timestamp)
}).annotations({ identifier: "CreateSubscription" })
export type CreateSubscription = typeof CreateSubscription.Type

const id = HttpApiSchema.param("id", Schema.NumberFromString.pipe(Schema.compose(SubscriptionId)))

export const CoverageGap = Schema.Struct({ from: Timestamp, to: Timestamp, missing: Schema.Int })

export const Coverage = Schema.Struct({
  subscription: SubscriptionId,
  first: Schema.NullOr(Timestamp),
  last: Schema.NullOr(Timestamp),
  count: Schema.Int,
  /** Holes between first and last (24/7 markets: every missing interval; others: not checked). */
  gaps: Schema.Array(CoverageGap)
}).annotations({ identifier: "Coverage" })

export class SubscriptionsGroup extends HttpApiGroup.make("subscriptions")
  .add(
    HttpApiEndpoint.post("create", "/subscriptions")
      .setPayload(CreateSubscription)
      .addSuccess(Schema.Array(Subscription))
      .addError(InvalidRequest)
      .addError(NotFound)
      .addError(Conflict)
      .middleware(AdminAuth)
      .annotate(
        OpenApi.Description,
        "Subscribe one symbol in one or more timeframes; existing ones are returned, switched to the requested mode"
      )
  )
  .add(
    HttpApiEndpoint.get("list", "/subscriptions")
      .setUrlParams(
        Schema.Struct({
          provider: Schema.optional(ProviderName),
          status: Schema.optional(SubscriptionStatus)
        })
      )
      .addSuccess(Schema.Array(Subscription))
  )
  .add(HttpApiEndpoint.get("get")`/subscriptions/${id}`.addSuccess(Subscription).addError(NotFound))
  .add(
    HttpApiEndpoint.post("pause")`/subscriptions/${id}/pause`
      .addSuccess(Subscription)
      .addError(NotFound)
      .middleware(AdminAuth)
  )
  .add(
    HttpApiEndpoint.post("resume")`/subscriptions/${id}/resume`
      .addSuccess(Subscription)
      .addError(NotFound)
      .middleware(AdminAuth)
  )
  .add(
    HttpApiEndpoint.del("remove")`/subscriptions/${id}`
      .setUrlParams(Schema.Struct({ purge: Schema.optional(Schema.BooleanFromString) }))
      .addSuccess(Schema.Void)
      .addError(NotFound)
      .middleware(AdminAuth)
      .annotate(OpenApi.Description, "Stop collecting; stored bars stay unless purge=true")
  )
  .add(HttpApiEndpoint.get("coverage")`/subscriptions/${id}/coverage`.addSuccess(Coverage).addError(NotFound))
  .middleware(BodyPolicy)
  .annotate(OpenApi.Description, "What DataHub collects, and how far it got") {}

/** A series a service needs streamed live (Trader, for a deployment's universe). */
export const LiveDemand = Schema.Struct({
  provider: ProviderName,
  /** The provider's own symbol. */
  symbol: MarketSymbol,
  timeframe: Timeframe
}).annotations({ identifier: "LiveDemand" })
export type LiveDemand = typeof LiveDemand.Type

/**
 * Internal: a service makes sure DataHub streams a series live, with the service credential (a
 * service never holds the admin token). What is collected already is kept: a history
 * subscription becomes `both`, a missing one is created `live`, a live one is left as it is.
 */
export class LiveDemandGroup extends HttpApiGroup.make("liveDemand")
  .add(
    HttpApiEndpoint.post("ensure", "/internal/subscriptions/live")
      .setPayload(LiveDemand)
      .addSuccess(Subscription)
      .addError(InvalidRequest)
      .addError(NotFound)
      .annotate(
        OpenApi.Description,
        "Make sure a series is streamed live: creates a live subscription, or adds live to a history one"
      )
  )
  .middleware(BodyPolicy)
  .middleware(ServiceAuth)
  .annotate(OpenApi.Description, "Internal: series other services need live. Needs QUASAR_SERVICE_TOKEN") {}
