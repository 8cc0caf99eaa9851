/**
 * The live bar feed: a WebSocket on DataHub at `/live` (through Nginx `/api/datahub/live`).
 * Text frames carry one JSON message each, encoded with these Schemas on both ends.
 */
import { Schema } from "effect"
import { BarPoint } from "./BarsApi"
import { MarketSymbol, ProviderName } from "./Common"
import { Timeframe } from "./Timeframe"

export const LIVE_PATH = "/live"

const Key = {
  provider: ProviderName,
  symbol: MarketSymbol,
  timeframe: Timeframe
}

/** Client → server. */
export const LiveClientMessage = Schema.Union(
  Schema.TaggedStruct("subscribe", Key),
  Schema.TaggedStruct("unsubscribe", Key),
  Schema.TaggedStruct("ping", { id: Schema.optional(Schema.Number) })
).annotations({ identifier: "LiveClientMessage" })
export type LiveClientMessage = typeof LiveClientMessage.Type

/** Server → client. */
export const LiveServerMessage = Schema.Union(
  Schema.TaggedStruct("subscribed", Key),
  Schema.TaggedStruct("unsubscribed", Key),
  /** A forming (`closed: false`) or final bar. */
  Schema.TaggedStruct("bar", { ...Key, bar: BarPoint, closed: Schema.Boolean }),
  Schema.TaggedStruct("pong", { id: Schema.optional(Schema.Number) }),
  /** A message the server could not accept; the connection stays open. */
  Schema.TaggedStruct("error", { message: Schema.String }),
  /** Sent when the connection was otherwise quiet, so that proxies (idle timeout 60 s) keep it open. */
  Schema.TaggedStruct("heartbeat", {})
).annotations({ identifier: "LiveServerMessage" })
export type LiveServerMessage = typeof LiveServerMessage.Type

/** Close codes: the client was too slow to keep up (its buffer passed the limit). */
export const CLOSE_TOO_SLOW = 4008
