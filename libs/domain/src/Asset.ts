import { Schema } from "effect"
import { MarketSymbol, ProviderName, Timestamp } from "./Common"

export const AssetClass = Schema.Literal(
  "crypto",
  "equity",
  "etf",
  "fund",
  "fx",
  "index",
  "bond",
  "commodity",
  "other"
)
export type AssetClass = typeof AssetClass.Type

export const AssetStatus = Schema.Literal("active", "delisted")

/** A tradable instrument as one provider lists it; primary key (provider, symbol). */
export class Asset extends Schema.Class<Asset>("Asset")({
  provider: ProviderName,
  symbol: MarketSymbol,
  name: Schema.NullOr(Schema.String),
  assetClass: AssetClass,
  base: Schema.NullOr(Schema.String),
  quote: Schema.NullOr(Schema.String),
  exchange: Schema.NullOr(Schema.String),
  currency: Schema.NullOr(Schema.String),
  isin: Schema.NullOr(Schema.String),
  status: AssetStatus,
  refreshedAt: Timestamp
}) {}
