import { Schema } from "effect"
import { AssetClass } from "./Asset"
import { MarketSymbol } from "./Common"

/** An asset as a provider's `listAssets` returns it (the SDK's `AssetInfo`), before storage. */
export const ProviderAsset = Schema.Struct({
  symbol: MarketSymbol,
  name: Schema.optional(Schema.String),
  assetClass: Schema.optional(AssetClass),
  base: Schema.optional(Schema.String),
  quote: Schema.optional(Schema.String),
  exchange: Schema.optional(Schema.String),
  currency: Schema.optional(Schema.String),
  isin: Schema.optional(Schema.String),
  status: Schema.optional(Schema.Literal("active", "delisted")),
  extra: Schema.optional(
    Schema.Record({
      key: Schema.String,
      value: Schema.Union(Schema.String, Schema.Number, Schema.Boolean, Schema.Null)
    })
  )
}).annotations({ identifier: "ProviderAsset" })
export type ProviderAsset = typeof ProviderAsset.Type
