import { Schema } from "effect"
import { VenueKind } from "./CodeVersion"
import { MarketSymbol, ProviderName } from "./Common"

/**
 * Links a common symbol (`BTC/USD`, `AAPL`) to one provider's or broker's own symbol
 * (`XBT/USD`, `AAPL.US`). A source symbol maps to one common symbol; a common symbol has at most
 * one symbol per source.
 */
export class AssetMapping extends Schema.Class<AssetMapping>("AssetMapping")({
  commonSymbol: MarketSymbol,
  source: ProviderName,
  sourceKind: VenueKind,
  symbol: MarketSymbol
}) {}
