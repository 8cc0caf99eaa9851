import type { BacktestFill, BacktestOrder, FillSettings } from "@quasar/domain"
import type { StrategyOrderInput } from "@quasar/providers/sdk"
import { feeOf, fillPrice, fillQuantity, type PriceBar, unfillablePrice } from "./fillModel"
import { orderProblem } from "./orderProblems"
import type { SymbolBook } from "./SymbolBook"

type LedgerOrder = { -readonly [K in keyof BacktestOrder]: BacktestOrder[K] }

/** Quantities within this relative distance of the position count as all of it (float rounding). */
const EPSILON = 1e-9

/** Cash, orders and fills of one run, and the results of its closed round trips. */
export class Ledger {
  readonly orders: Array<LedgerOrder> = []
  readonly open: Array<LedgerOrder> = []
  readonly fills: Array<BacktestFill> = []
  readonly tradeResults: Array<number> = []

  constructor(
    public cash: number,
    private readonly settings: FillSettings,
    private readonly universe: ReadonlySet<string>
  ) {}

  place(input: StrategyOrderInput, placedAt: number): number {
    const id = this.orders.length + 1
    const problem = orderProblem(input, this.universe)
    // Only the known fields are copied: the strategy's object may carry anything else.
    const order: LedgerOrder =
      problem === undefined
        ? {
            id,
            symbol: input.symbol,
            side: input.side,
            type: input.type,
            ...(input.quantity !== undefined && { quantity: input.quantity }),
            ...(input.notional !== undefined && { notional: input.notional }),
            ...(input.limitPrice !== undefined && { limitPrice: input.limitPrice }),
            ...(input.stopPrice !== undefined && { stopPrice: input.stopPrice }),
            placedAt,
            status: "open"
          }
        : {
            id,
            symbol: String(input?.symbol),
            side: input?.side === "sell" ? "sell" : "buy",
            type: input?.type === "limit" || input?.type === "stop" ? input.type : "market",
            placedAt,
            status: "rejected",
            reason: problem
          }
    this.orders.push(order)
    if (problem === undefined) this.open.push(order)
    return id
  }

  cancel(id: number): boolean {
    const at = this.open.findIndex((o) => o.id === id)
    if (at < 0) return false
    const order = this.open[at]!
    order.status = "cancelled"
    order.reason = "cancelled by the strategy"
    this.open.splice(at, 1)
    return true
  }

  /** Tries every open order of the book's symbol against its new bar, oldest order first. */
  fillOrders(book: SymbolBook, ts: number, bar: PriceBar): void {
    for (let i = 0; i < this.open.length; ) {
      const order = this.open[i]!
      if (order.symbol !== book.key) {
        i++
        continue
      }
      const price = fillPrice(order, bar, this.settings.slippageBps)
      if (price === undefined) {
        i++
        continue
      }
      const problem = this.settle(order, book, ts, price)
      if (problem === undefined) order.status = "filled"
      else {
        order.status = "rejected"
        order.reason = problem
      }
      this.open.splice(i, 1)
    }
  }

  /** Orders still open when the run ends. */
  expireOpen(): void {
    for (const order of this.open) {
      order.status = "expired"
      order.reason = "the run ended before it filled"
    }
    this.open.length = 0
  }

  private settle(order: LedgerOrder, book: SymbolBook, ts: number, price: number): string | undefined {
    const unfillable = unfillablePrice(price)
    if (unfillable !== undefined) return unfillable
    const feeBps = this.settings.feeBps
    let quantity = fillQuantity(order, price, feeBps)
    if (order.side === "buy") {
      const fee = feeOf(quantity, price, feeBps)
      const cost = quantity * price + fee
      if (cost > this.cash * (1 + EPSILON))
        return `needs ${cost.toFixed(2)} (${quantity} at ${price} plus ${fee.toFixed(2)} fee) but cash is ${this.cash.toFixed(2)}`
      this.cash = Math.max(0, this.cash - cost)
      book.averagePrice = (book.averagePrice * book.quantity + price * quantity) / (book.quantity + quantity)
      book.quantity += quantity
      book.tradeFlow -= cost
      this.fills.push({ orderId: order.id, symbol: book.key, side: "buy", ts, quantity, price, fee })
      return undefined
    }
    const held = book.quantity
    if (quantity > held * (1 + EPSILON))
      return `sells ${quantity} but the position is ${held}; short selling is not modelled`
    // What rounding leaves of the position (a notional sell of all of it) is sold too.
    if (held - quantity <= held * EPSILON) quantity = held
    const fee = feeOf(quantity, price, feeBps)
    const proceeds = quantity * price - fee
    this.cash += proceeds
    book.tradeFlow += proceeds
    book.quantity = held - quantity
    if (book.quantity === 0) {
      book.averagePrice = 0
      this.tradeResults.push(book.tradeFlow)
      book.tradeFlow = 0
    }
    this.fills.push({ orderId: order.id, symbol: book.key, side: "sell", ts, quantity, price, fee })
    return undefined
  }
}
