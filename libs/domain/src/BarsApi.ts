/** DataHub: stored bars. */
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { BodyPolicy } from "./BodyPolicy"
import { MarketSymbol, ProviderName, Timestamp } from "./Common"
import { InvalidRequest, NotFound } from "./Errors"
import { TimeframeFromString } from "./Timeframe"

export const MAX_BARS = 100_000
export const DEFAULT_BARS_LIMIT = 1_000

/** One bar as served: open time plus OHLCV, compact because responses can hold 100,000 of them. */
export const BarPoint = Schema.Struct({
  ts: Schema.String.annotations({ description: "bar open time, ISO 8601 UTC" }),
  open: Schema.Number,
  high: Schema.Number,
  low: Schema.Number,
  close: Schema.Number,
  volume: Schema.Number,
  vwap: Schema.NullOr(Schema.Number),
  trades: Schema.NullOr(Schema.Number)
}).annotations({ identifier: "BarPoint" })
export type BarPoint = typeof BarPoint.Type

export const BarsQuery = Schema.Struct({
  provider: Schema.optional(ProviderName),
  /** The provider's symbol; with `commonSymbol` instead, the provider's mapped symbol is used. */
  symbol: Schema.optional(MarketSymbol),
  commonSymbol: Schema.optional(MarketSymbol),
  timeframe: TimeframeFromString,
  from: Schema.optional(Timestamp),
  to: Schema.optional(Timestamp),
  /** Bars per page, 1–100,000 (default 1,000). */
  limit: Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, MAX_BARS))),
  /** Opaque cursor from a previous page's `nextCursor`. */
  cursor: Schema.optional(Schema.String.pipe(Schema.maxLength(64))),
  /** Serve bars of this larger timeframe, aggregated from stored `timeframe` bars. */
  resample: Schema.optional(TimeframeFromString),
  /** `json` (default) or `csv`. */
  format: Schema.optional(Schema.Literal("json", "csv"))
})

export const BarsPage = Schema.Struct({
  provider: ProviderName,
  symbol: MarketSymbol,
  timeframe: Schema.String,
  bars: Schema.Array(BarPoint),
  nextCursor: Schema.NullOr(Schema.String)
}).annotations({ identifier: "BarsPage" })

export const LatestQuery = Schema.Struct({
  provider: ProviderName,
  symbol: MarketSymbol,
  timeframe: TimeframeFromString
})

export class BarsGroup extends HttpApiGroup.make("bars")
  .add(
    HttpApiEndpoint.get("query", "/bars")
      .setUrlParams(BarsQuery)
      .addSuccess(BarsPage)
      .addSuccess(HttpApiSchema.Text({ contentType: "text/csv" }))
      .addError(InvalidRequest)
      .addError(NotFound)
      .annotate(
        OpenApi.Description,
        "Bars in [from, to), oldest first, paged by cursor; resample= and format=csv"
      )
  )
  .add(
    HttpApiEndpoint.get("latest", "/bars/latest")
      .setUrlParams(LatestQuery)
      .addSuccess(BarPoint)
      .addError(NotFound)
  )
  .middleware(BodyPolicy)
  .annotate(OpenApi.Description, "Stored OHLCV bars") {}
