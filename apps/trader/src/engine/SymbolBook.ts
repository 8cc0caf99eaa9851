import type { StrategyPosition } from "@quasar/providers/sdk"
import { grown } from "./growable"
import { IndicatorSet } from "./IndicatorSet"
import { SlidingWindow } from "./SlidingWindow"
import type { BarColumns } from "./types"

const COLUMNS = ["ts", "open", "high", "low", "close", "volume"] as const
const NO_BARS = new Float64Array(0)
const NO_COLUMNS: BarColumns = {
  ts: NO_BARS,
  open: NO_BARS,
  high: NO_BARS,
  low: NO_BARS,
  close: NO_BARS,
  volume: NO_BARS
}

/**
 * Everything the engine keeps about one universe member: its bars so far as columns, where the
 * run is in them, its window and indicators, the position held (the book is the
 * `StrategyPosition` the strategy reads) and its share of the buy-and-hold benchmark.
 */
export class SymbolBook implements StrategyPosition {
  readonly window: SlidingWindow
  readonly indicators = new IndicatorSet()
  /** Bars in `columns` (the arrays may hold more room). */
  end = 0
  /** Next bar to read. */
  cursor = 0
  /** Every bar of the member is in: no more will be appended. */
  finished = false
  quantity = 0
  averagePrice = 0
  lastClose = Number.NaN
  /** Cash paid into (negative) and taken out of the round trip now open, fees included. */
  tradeFlow = 0
  /** Units the benchmark bought at this symbol's first traded open; 0 before that bar. */
  benchmarkUnits = 0

  /** The bars so far (none at first; a live book never has any: its bars arrive through its window). */
  columns: BarColumns = NO_COLUMNS

  constructor(
    readonly key: string,
    windowSize: number,
    /** Bars the member is expected to bring: room for them is made at the first growth. */
    private readonly expected = 0
  ) {
    this.window = new SlidingWindow(windowSize)
  }

  /** Time of the newest bar appended; -Infinity before the first. */
  get lastTime(): number {
    return this.end === 0 ? Number.NEGATIVE_INFINITY : this.columns.ts[this.end - 1]!
  }

  /**
   * Appends the first `n` bars of `block`. A first block is kept as it is (no copy: a whole
   * series handed over at once is never copied); later ones go into arrays with room for the
   * expected bars, grown by doubling past them.
   */
  append(block: BarColumns, n: number): void {
    if (n === 0) return
    if (this.end === 0) {
      this.columns = {
        ts: block.ts.subarray(0, n),
        open: block.open.subarray(0, n),
        high: block.high.subarray(0, n),
        low: block.low.subarray(0, n),
        close: block.close.subarray(0, n),
        volume: block.volume.subarray(0, n)
      }
      this.end = n
      return
    }
    const room = this.room(n)
    for (const name of COLUMNS) room[name].set(block[name].subarray(0, n))
    this.end += n
  }

  /**
   * Views of the columns where the next `n` bars go, made room for (at first for the expected
   * bars, then by doubling): a reader fills them in place, and `end` moves past those it keeps.
   */
  room(n: number): BarColumns {
    const need = this.end + n
    if (need > this.columns.ts.length) {
      const size = Math.max(need, 2 * this.columns.ts.length, this.expected)
      const c = this.columns
      this.columns = {
        ts: grown(c.ts, this.end, size),
        open: grown(c.open, this.end, size),
        high: grown(c.high, this.end, size),
        low: grown(c.low, this.end, size),
        close: grown(c.close, this.end, size),
        volume: grown(c.volume, this.end, size)
      }
    }
    const c = this.columns
    const at = this.end
    return {
      ts: c.ts.subarray(at, need),
      open: c.open.subarray(at, need),
      high: c.high.subarray(at, need),
      low: c.low.subarray(at, need),
      close: c.close.subarray(at, need),
      volume: c.volume.subarray(at, need)
    }
  }
}
