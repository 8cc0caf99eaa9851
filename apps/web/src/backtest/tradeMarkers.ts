/**
 * A run's fills of one symbol as chart markers: an arrow below the bar for a buy, above it for
 * a sell, at the open time of the bar the fill happened in (the bars' own key), in time order as
 * the chart requires. Past `LABELLED_MARKERS` fills the arrows go without their price, which
 * would only overlap.
 */
import type { BacktestFill } from "@quasar/domain"
import type { SeriesMarker, UTCTimestamp } from "lightweight-charts"
import { formatPrice } from "../format"

export const LABELLED_MARKERS = 40

export interface MarkerColors {
  readonly buy: string
  readonly sell: string
}

export const tradeMarkers = (
  fills: ReadonlyArray<BacktestFill>,
  symbol: string,
  colors: MarkerColors
): Array<SeriesMarker<UTCTimestamp>> => {
  const mine = fills
    .filter((f) => f.symbol === symbol)
    .toSorted((a, b) => a.ts - b.ts || a.orderId - b.orderId)
  const labelled = mine.length <= LABELLED_MARKERS
  return mine.map((f) => ({
    time: Math.floor(f.ts / 1000) as UTCTimestamp,
    position: f.side === "buy" ? "belowBar" : "aboveBar",
    shape: f.side === "buy" ? "arrowUp" : "arrowDown",
    color: f.side === "buy" ? colors.buy : colors.sell,
    ...(labelled ? { text: `${f.side === "buy" ? "Buy" : "Sell"} @ ${formatPrice(f.price)}` } : {}),
    id: String(f.orderId)
  }))
}
