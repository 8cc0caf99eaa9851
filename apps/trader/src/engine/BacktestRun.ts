import { BAR_COLUMN_NAMES, type BacktestResult, type BacktestStatus, timeframeMs } from "@quasar/domain"
import type { Bar, ParamsSpec, ParamValue, ParamValues } from "@quasar/providers/sdk"
import { withRoom } from "./growable"
import { Ledger } from "./Ledger"
import { RunContext } from "./RunContext"
import { SymbolBook } from "./SymbolBook"
import { returnStatistics, tradeStatistics } from "./statistics"
import type { BacktestInput, BarColumns } from "./types"

const MAX_MESSAGE = 2_000

/** First index whose time is at or after `t` (binary search: bars are sorted). */
export const firstAtOrAfter = (ts: Float64Array, t: number): number => {
  let lo = 0
  let hi = ts.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (ts[mid]! < t) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** What is wrong with `block` as the next bars of `key` after time `after`, if anything. */
export const blockProblem = (key: string, block: BarColumns, after: number): string | undefined => {
  const n = block.ts?.length
  for (const name of BAR_COLUMN_NAMES)
    if (!(block[name] instanceof Float64Array) || block[name].length !== n)
      return `${key}: column ${name} must be a Float64Array of ${n} values, like ts`
  const ts = block.ts
  if (n > 0 && !(ts[0]! > after))
    return `${key}: timestamps must rise strictly (a block starts at or before the bar before it)`
  for (let i = 1; i < n; i++)
    if (!(ts[i]! > ts[i - 1]!))
      return `${key}: timestamps must rise strictly (bar ${i} is not after bar ${i - 1})`
  return undefined
}

const describe = (error: unknown): string => {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : `thrown value: ${String(error)}`
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text
}

/** What a run is set up with: its inputs but the bars, which it takes as they arrive (`append`). */
export type RunSetup = Omit<BacktestInput, "bars">

/** A universe member and the bars it is expected to bring (room is made for them; more may come). */
export interface RunMember {
  readonly key: string
  readonly expected: number
}

/**
 * One backtest as a state machine: `advance` runs some bar times and returns, so that a driver can
 * report progress and stop it between bars; `result` is the outcome so far. Nothing in it reads a
 * clock or a random source, so the same inputs give the same result.
 *
 * Bars are appended per member as they arrive (`append`, then `finish`), and the run goes as far
 * as they allow: a bar time runs once every member still loading has a bar at or after it, so
 * bars of one time across the universe always arrive at `onBar` together, whatever order the
 * members' blocks come in. A run whose members have all finished and whose bar times are all
 * done has completed; before that, `waiting` says it needs more bars.
 */
export class BacktestRun {
  private readonly books: ReadonlyArray<SymbolBook>
  private readonly bookOf: ReadonlyMap<string, SymbolBook>
  private readonly ledger: Ledger
  private readonly ctx: RunContext
  /** Every distinct bar time known so far, warm-up included, ascending; `timeCount` of them. */
  private times: Float64Array<ArrayBuffer>
  private timeCount = 0
  /** Bar times before `from`: they come first, and equity is recorded from the next one on. */
  private warmupTimes = 0
  /** Per book, how many of its bars are merged into `times`. */
  private readonly merged: Array<number>
  private equity: Float64Array<ArrayBuffer>
  private benchmark: Float64Array<ArrayBuffer>
  private readonly allocation: number
  private readonly expectedTimes: number
  private done = 0
  private exposedBars = 0
  private state: "running" | BacktestStatus = "running"
  private failure: BacktestResult["failure"]

  constructor(
    private readonly input: RunSetup,
    private readonly params: Readonly<Record<string, ParamValue>>,
    members: ReadonlyArray<RunMember>,
    windowSize: number
  ) {
    this.books = members.map((m) => new SymbolBook(m.key, windowSize, m.expected))
    this.bookOf = new Map(this.books.map((b) => [b.key, b]))
    this.merged = this.books.map(() => 0)
    this.ledger = new Ledger(input.initialCash, input.fill, new Set(this.bookOf.keys()))
    this.ctx = new RunContext(params as ParamValues<ParamsSpec>, this.ledger, this.bookOf, this.books)
    this.expectedTimes = members.reduce((n, m) => Math.max(n, m.expected), 0)
    this.times = new Float64Array(this.expectedTimes)
    this.equity = new Float64Array(this.expectedTimes)
    this.benchmark = new Float64Array(this.expectedTimes)
    this.allocation = input.initialCash / this.books.length
  }

  get status(): "running" | BacktestStatus {
    return this.state
  }

  /**
   * Bar times done and in all, warm-up included. Until every member has finished, the total is
   * the bar times known so far or the expected ones, whichever is more.
   */
  get progress(): { readonly done: number; readonly total: number } {
    return {
      done: this.done,
      total: this.sealed ? this.timeCount : Math.max(this.timeCount, this.expectedTimes)
    }
  }

  /** Every member has finished: no bar will be appended any more. */
  get sealed(): boolean {
    return this.books.every((b) => b.finished)
  }

  /** Still running, with every known bar time done: it needs more bars to go on. */
  get waiting(): boolean {
    return this.state === "running" && this.done === this.timeCount && !this.sealed
  }

  /**
   * Appends the next bars of member `key`, or says what is wrong with them (nothing is appended
   * then): columns that are not Float64Arrays of one length, times that do not rise strictly from
   * the member's last bar, a member that is unknown or has finished. Bars at or after `to` are
   * left out.
   */
  append(key: string, block: BarColumns): string | undefined {
    const book = this.taking(key)
    if (typeof book === "string") return book
    const problem = blockProblem(key, block, book.lastTime)
    if (problem !== undefined) return problem
    book.append(block, firstAtOrAfter(block.ts, this.input.to))
    this.extendTimes()
    return undefined
  }

  /**
   * Room for the next `n` bars of member `key`, to be filled in place and then kept with
   * `commit`: bars read straight into the run's columns are never copied. Undefined for a member
   * that is not in the universe or has finished.
   */
  room(key: string, n: number): BarColumns | undefined {
    const book = this.taking(key)
    return typeof book === "string" ? undefined : book.room(n)
  }

  /**
   * Keeps the `n` bars just written into `room(key, n)`, or says what is wrong with them (none
   * is kept then), as `append` does.
   */
  commit(key: string, n: number): string | undefined {
    const book = this.taking(key)
    if (typeof book === "string") return book
    const written = book.room(n)
    const problem = blockProblem(key, written, book.lastTime)
    if (problem !== undefined) return problem
    book.end += firstAtOrAfter(written.ts, this.input.to)
    this.extendTimes()
    return undefined
  }

  /** The book of member `key` if it still takes bars, else why not. */
  private taking(key: string): SymbolBook | string {
    const book = this.bookOf.get(key)
    if (book === undefined) return `bars given for ${key}, which is not in the universe`
    return book.finished ? `bars given for ${key} after its last` : book
  }

  /** Member `key` has brought all its bars. */
  finish(key: string): void {
    const book = this.bookOf.get(key)
    if (book === undefined || book.finished) return
    book.finished = true
    this.extendTimes()
    this.completeIfOver()
  }

  /**
   * Merges into `times` every member's bars up to the earliest newest bar among members still
   * loading (all of them once every member has finished): later bars of another member may
   * still fall between them.
   */
  private extendTimes(): void {
    const { books, merged } = this
    if (books.length === 1) {
      // One member: every bar it has brought is a bar time of the run, in its order.
      const book = books[0]!
      const fresh = book.columns.ts.subarray(merged[0]!, book.end)
      this.times = withRoom(this.times, this.timeCount, this.timeCount + fresh.length)
      this.times.set(fresh, this.timeCount)
      this.timeCount += fresh.length
      this.warmupTimes += firstAtOrAfter(fresh, this.input.from)
      merged[0] = book.end
      return
    }
    let horizon = Number.POSITIVE_INFINITY
    for (const book of books) if (!book.finished) horizon = Math.min(horizon, book.lastTime)
    for (;;) {
      let next = Number.POSITIVE_INFINITY
      for (let b = 0; b < books.length; b++) {
        const book = books[b]!
        if (merged[b]! < book.end) next = Math.min(next, book.columns.ts[merged[b]!]!)
      }
      if (next > horizon || next === Number.POSITIVE_INFINITY) return
      for (let b = 0; b < books.length; b++) {
        const book = books[b]!
        if (merged[b]! < book.end && book.columns.ts[merged[b]!] === next) merged[b]!++
      }
      this.pushTime(next)
    }
  }

  private pushTime(t: number): void {
    this.times = withRoom(this.times, this.timeCount, this.timeCount + 1)
    this.times[this.timeCount++] = t
    if (t < this.input.from) this.warmupTimes++
  }

  private completeIfOver(): void {
    if (this.state === "running" && this.sealed && this.done === this.timeCount) {
      this.state = "completed"
      this.ledger.expireOpen()
    }
  }

  /**
   * Runs up to `maxTimes` of the bar times known so far; true once the run is over (completed or
   * failed). False with `waiting`: it needs more bars.
   */
  advance(maxTimes: number): boolean {
    if (this.state !== "running") return true
    const stop = Math.min(this.timeCount, this.done + maxTimes)
    const { books, ledger, ctx, times } = this
    const from = this.input.from
    const onBar = this.input.strategy.onBar
    const strategy = this.input.strategy
    for (let i = this.done; i < stop; i++) {
      const t = times[i]!
      const traded = t >= from
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
      this.record(i - this.warmupTimes)
      this.done = i + 1
    }
    this.completeIfOver()
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
    this.equity = withRoom(this.equity, k, k + 1)
    this.benchmark = withRoom(this.benchmark, k, k + 1)
    this.equity[k] = equity
    this.benchmark[k] = benchmark
    if (exposed) this.exposedBars++
  }

  /**
   * The equity curve from traded bar time `from` to the last one recorded, as views over the
   * run's own arrays (no copy): what a driver hands on while the run goes on.
   */
  equitySince(from: number): BacktestResult["equity"] {
    const recorded = Math.max(0, this.done - this.warmupTimes)
    const end = Math.max(from, recorded)
    return {
      ts: this.times.subarray(this.warmupTimes + from, this.warmupTimes + end),
      equity: this.equity.subarray(from, end),
      benchmark: this.benchmark.subarray(from, end)
    }
  }

  /** The outcome so far but its equity curve (see `equitySince`). */
  outcome(): Omit<BacktestResult, "equity"> {
    const { input } = this
    const { ts, equity, benchmark } = this.equitySince(0)
    const barMs = timeframeMs[input.strategy.universe.timeframe]
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
