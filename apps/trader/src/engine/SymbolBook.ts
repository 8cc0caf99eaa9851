import { BAR_COLUMN_NAMES } from "@quasar/domain"
import type { StrategyPosition } from "@quasar/providers/sdk"
import { grown } from "./growable"
import { IndicatorSet } from "./IndicatorSet"
import { SlidingWindow } from "./SlidingWindow"
import type { BarColumns } from "./types"

/** Columns whose each one is `column(name)`. */
const columnsBy = (column: (name: (typeof BAR_COLUMN_NAMES)[number]) => BarColumns["ts"]): BarColumns => ({
  ts: column("ts"),
  open: column("open"),
  high: column("high"),
  low: column("low"),
  close: column("close"),
  volume: column("volume")
})

const NO_BARS = new Float64Array(0)
const NO_COLUMNS = columnsBy(() => NO_BARS)

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

  /** The bars so far (none at first; a live book keeps none: its bars arrive through its window). */
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
      this.columns = columnsBy((name) => block[name].subarray(0, n))
      this.end = n
      return
    }
    const room = this.room(n)
    for (const name of BAR_COLUMN_NAMES) room[name].set(block[name].subarray(0, n))
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
      const old = this.columns
      this.columns = columnsBy((name) => grown(old[name], this.end, size))
    }
    const at = this.end
    return columnsBy((name) => this.columns[name].subarray(at, need))
  }
}
