import { type BacktestResult, type BacktestStatus, Timeframe } from "@quasar/domain"
import type { Bar, ParamsSpec, ParamValue, ParamValues } from "@quasar/providers/sdk"
import { Ledger } from "./Ledger"
import { RunContext } from "./RunContext"
import { SymbolBook } from "./SymbolBook"
import { returnStatistics, tradeStatistics } from "./statistics"
import type { BacktestInput, BarColumns } from "./types"

const MAX_MESSAGE = 2_000

const describe = (error: unknown): string => {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : `thrown value: ${String(error)}`
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text
}

/**
 * One backtest as a state machine: `advance` runs some bar times and returns, so that a driver can
 * report progress and stop it between bars; `result` is the outcome so far. Nothing in it reads a
 * clock or a random source, so the same inputs give the same result.
 */
export class BacktestRun {
  private readonly books: ReadonlyArray<SymbolBook>
  private readonly ledger: Ledger
  private readonly ctx: RunContext
  private readonly equity: Float64Array
  private readonly benchmark: Float64Array
  private readonly allocation: number
  private done = 0
  private exposedBars = 0
  private state: "running" | BacktestStatus = "running"
  private failure: BacktestResult["failure"]

  constructor(
    private readonly input: BacktestInput,
    private readonly params: Readonly<Record<string, ParamValue>>,
    series: ReadonlyArray<{ readonly key: string; readonly columns: BarColumns; readonly end: number }>,
    /** Every distinct bar time of the run, warm-up included. */
    private readonly times: Float64Array,
    /** Index in `times` of the first traded bar time. */
    private readonly firstTraded: number,
    windowSize: number
  ) {
    this.books = series.map((s) => new SymbolBook(s.key, s.columns, s.end, windowSize))
    const universe = new Set(this.books.map((b) => b.key))
    this.ledger = new Ledger(input.initialCash, input.fill, universe)
    this.ctx = new RunContext(
      params as ParamValues<ParamsSpec>,
      this.ledger,
      new Map(this.books.map((b) => [b.key, b])),
      this.books
    )
    this.equity = new Float64Array(times.length - firstTraded)
    this.benchmark = new Float64Array(times.length - firstTraded)
    this.allocation = input.initialCash / this.books.length
  }

  get status(): "running" | BacktestStatus {
    return this.state
  }

  /** Bar times done and in all, warm-up included. */
  get progress(): { readonly done: number; readonly total: number } {
    return { done: this.done, total: this.times.length }
  }

  /** Runs up to `maxTimes` bar times; true once the run is over (completed or failed). */
  advance(maxTimes: number): boolean {
    if (this.state !== "running") return true
    const stop = Math.min(this.times.length, this.done + maxTimes)
    const { books, ledger, ctx, times, firstTraded } = this
    const onBar = this.input.strategy.onBar
    const strategy = this.input.strategy
    for (let i = this.done; i < stop; i++) {
      const t = times[i]!
      const traded = i >= firstTraded
      const bars: Array<Bar> = []
      for (let b = 0; b < books.length; b++) {
        const book = books[b]!
        const c = book.columns
        const at = book.cursor
        if (at >= book.end || c.ts[at] !== t) continue
        const open = c.open[at]!
        const high = c.high[at]!
        const low = c.low[at]!
        const close = c.close[at]!
        const volume = c.volume[at]!
        book.cursor = at + 1
        book.window.push(t, open, high, low, close, volume)
        book.indicators.update(high, low, close)
        book.lastClose = close
        if (!traded) continue
        if (ledger.open.length > 0) ledger.fillOrders(book, t, { open, high, low })
        // Buy-and-hold buys at the first open above 0 and holds cash until then.
        if (book.benchmarkUnits === 0 && open > 0) book.benchmarkUnits = this.allocation / open
        bars.push({ symbol: book.key, ts: t, open, high, low, close, volume })
      }
      if (!traded) {
        this.done = i + 1
        continue
      }
      ctx.time = t
      try {
        onBar.call(strategy, ctx, bars)
      } catch (error) {
        this.failure = { barIndex: i, ts: t, message: describe(error) }
        this.state = "failed"
        this.done = i
        ledger.expireOpen()
        return true
      }
      this.record(i - firstTraded)
      this.done = i + 1
    }
    if (this.done === times.length) {
      this.state = "completed"
      ledger.expireOpen()
    }
    return this.state !== "running"
  }

  /** Stops a running run; its result covers the bars done so far. */
  cancel(): void {
    if (this.state !== "running") return
    this.state = "cancelled"
    this.ledger.expireOpen()
  }

  /** Equity and benchmark at the close of traded bar time `k`. */
  private record(k: number): void {
    let equity = this.ledger.cash
    let benchmark = 0
    let exposed = false
    const books = this.books
    for (let b = 0; b < books.length; b++) {
      const book = books[b]!
      if (book.quantity !== 0) {
        equity += book.quantity * book.lastClose
        exposed = true
      }
      benchmark += book.benchmarkUnits === 0 ? this.allocation : book.benchmarkUnits * book.lastClose
    }
    this.equity[k] = equity
    this.benchmark[k] = benchmark
    if (exposed) this.exposedBars++
  }

  /**
   * The equity curve from traded bar time `from` to the last one recorded, as views over the
   * run's own arrays (no copy): what a driver hands on while the run goes on.
   */
  equitySince(from: number): BacktestResult["equity"] {
    const recorded = Math.max(0, this.done - this.firstTraded)
    const end = Math.max(from, recorded)
    return {
      ts: this.times.subarray(this.firstTraded + from, this.firstTraded + end),
      equity: this.equity.subarray(from, end),
      benchmark: this.benchmark.subarray(from, end)
    }
  }

  /** The outcome so far but its equity curve (see `equitySince`). */
  outcome(): Omit<BacktestResult, "equity"> {
    const { input } = this
    const { ts, equity, benchmark } = this.equitySince(0)
    const barMs = Timeframe.durationMs(input.strategy.universe.timeframe)
    return {
      status: this.state === "running" ? "cancelled" : this.state,
      inputs: {
        strategy: input.strategy.name,
        strategyVersion: input.strategy.version,
        codeSha256: input.codeSha256,
        params: { ...this.params },
        provider: input.provider,
        timeframe: input.strategy.universe.timeframe,
        universe: this.books.map((b) => b.key),
        from: input.from,
        to: input.to,
        initialCash: input.initialCash,
        fill: { feeBps: input.fill.feeBps, slippageBps: input.fill.slippageBps }
      },
      ...(this.failure !== undefined && { failure: this.failure }),
      progress: this.progress,
      orders: this.ledger.orders.map((o) => ({ ...o })),
      fills: [...this.ledger.fills],
      statistics: {
        ...returnStatistics(equity, ts, input.initialCash, barMs),
        ...tradeStatistics(this.ledger.tradeResults, this.exposedBars, ts.length)
      },
      benchmark: returnStatistics(benchmark, ts, input.initialCash, barMs),
      logs: [...this.ctx.logs],
      logsDropped: this.ctx.logsDropped
    }
  }

  result(): BacktestResult {
    const { ts, equity, benchmark } = this.equitySince(0)
    return {
      ...this.outcome(),
      equity: { ts: ts.slice(), equity: equity.slice(), benchmark: benchmark.slice() }
    }
  }
}
