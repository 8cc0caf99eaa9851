/** DataHub: the state of live streams (the bars themselves come over the `/live` WebSocket). */
import { HttpApiEndpoint, HttpApiGroup, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { BodyPolicy } from "./BodyPolicy"
import { MarketSymbol, ProviderName, Timestamp } from "./Common"
import { SubscriptionId } from "./Subscription"
import { Timeframe } from "./Timeframe"

export const ConnectionState = Schema.Literal("connecting", "connected", "backoff", "stopped")

/** One provider connection, which carries many subscriptions. */
export const LiveConnection = Schema.Struct({
  provider: ProviderName,
  timeframe: Timeframe,
  state: ConnectionState,
  connectedSince: Schema.NullOr(Timestamp),
  lastMessageAt: Schema.NullOr(Timestamp),
  reconnects: Schema.Int,
  lastError: Schema.NullOr(Schema.String),
  symbols: Schema.Array(MarketSymbol)
}).annotations({ identifier: "LiveConnection" })

export const LiveSubscriptionStatus = Schema.Struct({
  subscription: SubscriptionId,
  provider: ProviderName,
  symbol: MarketSymbol,
  timeframe: Timeframe,
  lastClosedBarAt: Schema.NullOr(Timestamp),
  /** Seconds between the newest closed bar's close and now; null before the first bar. */
  lagSeconds: Schema.NullOr(Schema.Number)
}).annotations({ identifier: "LiveSubscriptionStatus" })

export const LiveStatus = Schema.Struct({
  connections: Schema.Array(LiveConnection),
  subscriptions: Schema.Array(LiveSubscriptionStatus),
  /** Clients connected to the `/live` WebSocket. */
  clients: Schema.Int,
  /** The DataHub runner answering: the connections listed are its own (of the providers it owns). */
  runner: Schema.optional(Schema.String),
  /** Which runner owns each provider now, across the cluster. */
  owners: Schema.optional(Schema.Array(Schema.Struct({ provider: ProviderName, runner: Schema.String })))
}).annotations({ identifier: "LiveStatus" })

export class LiveGroup extends HttpApiGroup.make("live")
  .add(HttpApiEndpoint.get("status", "/live/status").addSuccess(LiveStatus))
  .middleware(BodyPolicy)
  .annotate(OpenApi.Description, "Live provider connections and per-subscription lag") {}
