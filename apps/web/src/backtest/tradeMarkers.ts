/**
 * A run's fills of one symbol as chart markers: an arrow below the bar for a buy, above it for
 * a sell, at the open time of the bar the fill happened in (the bars' own key), in time order as
 * the chart requires.
 */
import type { BacktestFill } from "@quasar/domain"
import type { SeriesMarker, UTCTimestamp } from "lightweight-charts"
import { formatPrice } from "../format"

export interface MarkerColors {
  readonly buy: string
  readonly sell: string
}

export const tradeMarkers = (
  fills: ReadonlyArray<BacktestFill>,
  symbol: string,
  colors: MarkerColors
): Array<SeriesMarker<UTCTimestamp>> =>
  fills
    .filter((f) => f.symbol === symbol)
    .toSorted((a, b) => a.ts - b.ts || a.orderId - b.orderId)
    .map((f) => ({
      time: Math.floor(f.ts / 1000) as UTCTimestamp,
      position: f.side === "buy" ? "belowBar" : "aboveBar",
      shape: f.side === "buy" ? "arrowUp" : "arrowDown",
      color: f.side === "buy" ? colors.buy : colors.sell,
      text: `${f.side === "buy" ? "Buy" : "Sell"} @ ${formatPrice(f.price)}`,
      id: String(f.orderId)
    }))
