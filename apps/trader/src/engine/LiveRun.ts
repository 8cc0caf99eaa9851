/**
 * A strategy run live, bar by bar, over the engine's own pieces: a `SymbolBook` per universe
 * member (window, indicators, position) and `RunContext` as `ctx`, so that indicators and windows
 * behave exactly as in a backtest. Orders do not fill here: the account's view comes in before
 * each call and the strategy's orders and cancels go out (see `LiveOrderBook`).
 */
import type { Bar, ParamsSpec, ParamValues, Strategy, StrategyOrderInput } from "@quasar/providers/sdk"
import { resolveParams, universeKey } from "@quasar/providers/sdk"
import { type AccountView, LiveOrderBook } from "./LiveOrderBook"
import { RunContext } from "./RunContext"
import { SymbolBook } from "./SymbolBook"

export interface LiveDecision {
  readonly orders: ReadonlyArray<StrategyOrderInput>
  readonly cancels: ReadonlyArray<number>
  readonly logs: ReadonlyArray<{ readonly ts: number; readonly message: string }>
}

export type PreparedLiveRun =
  | { readonly ok: true; readonly run: LiveRun }
  | { readonly ok: false; readonly problems: ReadonlyArray<string> }

const DEFAULT_WINDOW = 200
const MAX_WINDOW = 100_000

export class LiveRun {
  private readonly books: Map<string, SymbolBook>
  private readonly orders: LiveOrderBook
  private readonly ctx: RunContext

  private constructor(
    private readonly strategy: Strategy,
    params: ParamValues<ParamsSpec>,
    windowSize: number
  ) {
    const keys = strategy.universe.symbols.map(universeKey)
    // A live book reads no columns: bars arrive one by one through `push`.
    const bookList = keys.map((key) => new SymbolBook(key, windowSize))
    this.books = new Map(bookList.map((b) => [b.key, b]))
    this.orders = new LiveOrderBook(new Set(keys))
    this.ctx = new RunContext(params, this.orders, this.books, bookList)
  }

  static prepare(strategy: Strategy, given: Readonly<Record<string, unknown>>): PreparedLiveRun {
    const params = resolveParams(strategy.params, given)
    if (!params.ok) return { ok: false, problems: params.problems }
    const windowSize = strategy.window ?? Math.max(DEFAULT_WINDOW, strategy.warmup)
    if (!Number.isInteger(windowSize) || windowSize < 1 || windowSize > MAX_WINDOW)
      return { ok: false, problems: [`window must be a whole number from 1 to ${MAX_WINDOW}`] }
    return { ok: true, run: new LiveRun(strategy, params.values as ParamValues<ParamsSpec>, windowSize) }
  }

  /** Adds a closed bar to its symbol's window and indicators (warm-up, or before `decide`). */
  push(bar: Bar): void {
    const book = this.books.get(bar.symbol)
    if (book === undefined) return
    const last = book.window.length === 0 ? undefined : book.window.read().ts[book.window.length - 1]
    if (last !== undefined && bar.ts <= last) return
    book.window.push(bar.ts, bar.open, bar.high, bar.low, bar.close, bar.volume)
    book.indicators.update(bar.high, bar.low, bar.close)
    book.lastClose = bar.close
  }

  /** Pushes the bars and calls `onBar` with the account as `view` shows it; throws what the strategy throws. */
  decide(bars: ReadonlyArray<Bar>, view: AccountView): LiveDecision {
    for (const bar of bars) this.push(bar)
    for (const [key, book] of this.books) {
      const held = view.positions.get(key)
      book.quantity = held?.quantity ?? 0
      book.averagePrice = held?.averagePrice ?? 0
    }
    this.orders.reset(view)
    this.ctx.time = bars[0]?.ts ?? this.ctx.time
    const known = bars.filter((b) => this.books.has(b.symbol))
    this.strategy.onBar.call(this.strategy, this.ctx, known)
    const logs = this.ctx.logs.splice(0)
    return { orders: this.orders.placed, cancels: this.orders.cancels, logs }
  }
}
