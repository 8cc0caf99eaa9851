/**
 * Where a backtest's bars come from: one series of DataHub's stored bars as columns. Trader never
 * reads DataHub's tables; a layer of this Tag asks DataHub over HTTP (the JSON bars query, or a
 * columnar endpoint where DataHub serves one).
 */
import type {
  BarColumnBlocks,
  InvalidRequest,
  ProviderName,
  ServiceUnavailable,
  Timeframe
} from "@quasar/domain"
import { Context, type Effect } from "effect"

export interface BarsRange {
  readonly provider: ProviderName
  /** The provider's own symbol. */
  readonly symbol: string
  readonly timeframe: Timeframe.Timeframe
  /** Open times from `from` (inclusive) to `to` (exclusive), UTC epoch milliseconds. */
  readonly from: number
  readonly to: number
}

export class BarsFeed extends Context.Tag("@quasar/trader/BarsFeed")<
  BarsFeed,
  {
    /**
     * Every stored bar of the range, ascending by open time, in the blocks it arrived in (no bars: none).
     * InvalidRequest: DataHub refused the query; ServiceUnavailable: DataHub cannot be reached.
     */
    readonly load: (range: BarsRange) => Effect.Effect<BarColumnBlocks, InvalidRequest | ServiceUnavailable>
  }
>() {}
