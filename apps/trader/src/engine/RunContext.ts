import type {
  Bands,
  BarWindow,
  ParamsSpec,
  ParamValues,
  StrategyContext,
  StrategyOrder,
  StrategyOrderInput,
  StrategyPosition
} from "@quasar/providers/sdk"
import type { SymbolBook } from "./SymbolBook"

/** Where `ctx` keeps its orders: a backtest's `Ledger`, or a live deployment's account view. */
export interface OrderBook {
  readonly cash: number
  readonly open: ReadonlyArray<StrategyOrder>
  place(order: StrategyOrderInput, placedAt: number): number
  cancel(id: number): boolean
}

const MAX_LOGS = 1_000
const MAX_LOG_LENGTH = 500

/** The `ctx` a strategy's `onBar` receives; the engine sets `time` before each call. */
export class RunContext implements StrategyContext {
  time = 0
  readonly logs: Array<{ ts: number; message: string }> = []
  logsDropped = 0

  constructor(
    readonly params: ParamValues<ParamsSpec>,
    private readonly ledger: OrderBook,
    private readonly books: ReadonlyMap<string, SymbolBook>,
    private readonly bookList: ReadonlyArray<SymbolBook>
  ) {}

  get cash(): number {
    return this.ledger.cash
  }

  get equity(): number {
    let equity = this.ledger.cash
    for (const book of this.bookList) if (book.quantity !== 0) equity += book.quantity * book.lastClose
    return equity
  }

  get openOrders(): ReadonlyArray<StrategyOrder> {
    return this.ledger.open
  }

  order(order: StrategyOrderInput): number {
    return this.ledger.place(order, this.time)
  }

  cancel(id: number): boolean {
    return this.ledger.cancel(id)
  }

  position(symbol: string): StrategyPosition {
    return this.book(symbol)
  }

  window(symbol: string): BarWindow {
    return this.book(symbol).window.read()
  }

  sma(symbol: string, period: number): number | undefined {
    const book = this.book(symbol)
    return book.indicators.smaOf(period, book.window)
  }

  ema(symbol: string, period: number): number | undefined {
    const book = this.book(symbol)
    return book.indicators.emaOf(period, book.window)
  }

  rsi(symbol: string, period = 14): number | undefined {
    const book = this.book(symbol)
    return book.indicators.rsiOf(period, book.window)
  }

  atr(symbol: string, period = 14): number | undefined {
    const book = this.book(symbol)
    return book.indicators.atrOf(period, book.window)
  }

  bollinger(symbol: string, period = 20, deviations = 2): Bands | undefined {
    const book = this.book(symbol)
    return book.indicators.bollingerOf(period, deviations, book.window)
  }

  log(message: string): void {
    if (this.logs.length >= MAX_LOGS) {
      this.logsDropped++
      return
    }
    const text = String(message)
    this.logs.push({
      ts: this.time,
      message: text.length > MAX_LOG_LENGTH ? `${text.slice(0, MAX_LOG_LENGTH)}…` : text
    })
  }

  private book(symbol: string): SymbolBook {
    const book = this.books.get(symbol)
    if (book === undefined)
      throw new RangeError(
        `${JSON.stringify(symbol)} is not in the universe (${[...this.books.keys()].join(", ")})`
      )
    return book
  }
}
