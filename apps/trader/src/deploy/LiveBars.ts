/**
 * Closed bars as they close, from DataHub's live feed (`/live`). The stream of a set of series
 * never ends on its own: the implementation reconnects, and a bar seen again after a reconnect is
 * the deployment's to drop (its reducer ignores a bar not newer than the last of its symbol).
 */
import type { ProviderName, Timeframe } from "@quasar/domain"
import { Context, type Stream } from "effect"

export interface LiveSeries {
  readonly provider: ProviderName
  /** The provider's own symbol. */
  readonly symbol: string
  readonly timeframe: Timeframe.Timeframe
}

export interface LiveBar {
  readonly series: LiveSeries
  readonly ts: number
  readonly open: number
  readonly high: number
  readonly low: number
  readonly close: number
  readonly volume: number
}

export class LiveBars extends Context.Tag("@quasar/trader/LiveBars")<
  LiveBars,
  { readonly closed: (series: ReadonlyArray<LiveSeries>) => Stream.Stream<LiveBar> }
>() {}

export const sameSeries = (a: LiveSeries, b: LiveSeries) =>
  a.provider === b.provider && a.symbol === b.symbol && a.timeframe === b.timeframe
