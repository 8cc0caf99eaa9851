import type { StrategyOrder, StrategyOrderInput } from "@quasar/providers/sdk"
import { orderProblem } from "./orderProblems"
import type { OrderBook } from "./RunContext"

/** What a live account shows the strategy before a call: cash, open orders and the next order id. */
export interface AccountView {
  readonly cash: number
  readonly positions: ReadonlyMap<string, { readonly quantity: number; readonly averagePrice: number }>
  readonly openOrders: ReadonlyArray<StrategyOrder>
  readonly nextOrderId: number
}

/**
 * The orders side of a live `ctx`: the account's view as it stood before the call, plus what the
 * strategy places and cancels during it. Nothing reaches the account here; the deployment's
 * reducer takes the orders (ids numbered from `nextOrderId`, in placing order) and the cancels
 * after the call, and checks them against the account and the risk limits.
 */
export class LiveOrderBook implements OrderBook {
  cash = 0
  open: Array<StrategyOrder> = []
  placed: Array<StrategyOrderInput> = []
  cancels: Array<number> = []
  private nextId = 1

  constructor(private readonly universe: ReadonlySet<string>) {}

  reset(view: AccountView): void {
    this.cash = view.cash
    this.open = [...view.openOrders]
    this.placed = []
    this.cancels = []
    this.nextId = view.nextOrderId
  }

  place(input: StrategyOrderInput, placedAt: number): number {
    const id = this.nextId++
    const problem = orderProblem(input, this.universe)
    // Only the known fields are copied: the strategy's object may carry anything else.
    const order: StrategyOrderInput = {
      symbol: input?.symbol,
      side: input?.side,
      type: input?.type,
      ...(input?.quantity !== undefined && { quantity: input.quantity }),
      ...(input?.notional !== undefined && { notional: input.notional }),
      ...(input?.limitPrice !== undefined && { limitPrice: input.limitPrice }),
      ...(input?.stopPrice !== undefined && { stopPrice: input.stopPrice })
    }
    this.placed.push(order)
    if (problem === undefined) this.open.push({ ...order, id, placedAt, status: "open" })
    return id
  }

  cancel(id: number): boolean {
    const at = this.open.findIndex((o) => o.id === id)
    if (at < 0) return false
    this.open.splice(at, 1)
    this.cancels.push(id)
    return true
  }
}
