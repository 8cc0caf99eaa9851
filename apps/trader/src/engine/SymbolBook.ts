import type { StrategyPosition } from "@quasar/providers/sdk"
import { IndicatorSet } from "./IndicatorSet"
import { SlidingWindow } from "./SlidingWindow"
import type { BarColumns } from "./types"

/**
 * Everything the engine keeps about one universe member: where it is in its columns, its window
 * and indicators, the position held (the book is the `StrategyPosition` the strategy reads) and
 * its share of the buy-and-hold benchmark.
 */
export class SymbolBook implements StrategyPosition {
  readonly window: SlidingWindow
  readonly indicators = new IndicatorSet()
  /** Next bar to read. */
  cursor = 0
  quantity = 0
  averagePrice = 0
  lastClose = Number.NaN
  /** Cash paid into (negative) and taken out of the round trip now open, fees included. */
  tradeFlow = 0
  /** Units the benchmark bought at this symbol's first traded open; 0 before that bar. */
  benchmarkUnits = 0

  constructor(
    readonly key: string,
    readonly columns: BarColumns,
    /** Index of the first bar at or after the run's end. */
    readonly end: number,
    windowSize: number
  ) {
    this.window = new SlidingWindow(windowSize)
  }
}
