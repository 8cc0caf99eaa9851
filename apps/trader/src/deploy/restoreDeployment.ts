/**
 * A deployment's state rebuilt from what was persisted: cash and positions from its fills, open
 * orders from its orders, the last bar of each symbol from its marks. Trader does this when it
 * starts a deployment again (after a stop or a restart), so the account goes on where it was and
 * an order placed before is never placed twice (its client order id is known again). A broker
 * account keeps its orders by client order id, `sending` ones (no broker id yet) included, and
 * knows its fills' ids again; the fiber then reconciles them with the broker.
 */
import type { DeploymentOrder, RiskLimits } from "@quasar/domain"
import type { BrokerOrder, Fill } from "@quasar/providers/sdk"
import { type Holding, moveHolding } from "../paper/holdings"
import * as Paper from "../paper/PaperAccount"
import type { DeploymentState, FlattenAs, Mode, Venue } from "./DeploymentState"

export interface PersistedDeployment {
  readonly id: number
  readonly venue: Venue
  readonly limits: RiskLimits
  readonly universe: ReadonlyArray<string>
  readonly settings: Paper.PaperSettings
  readonly initialCash: number
  readonly mode: Mode
  readonly flattenAs: FlattenAs
  readonly flattenMessage: string
  readonly lastBarTs: number | undefined
  readonly dayStart: number | undefined
  readonly dayStartEquity: number | undefined
  /** In strategy id (seq) order. */
  readonly orders: ReadonlyArray<{ readonly seq: number; readonly order: DeploymentOrder }>
  /** In time order. */
  readonly fills: ReadonlyArray<Fill>
  readonly marks: ReadonlyMap<string, Paper.PaperBar>
}

const replayFills = (initialCash: number, fills: ReadonlyArray<Fill>) => {
  let cash = initialCash
  const holdings = new Map<string, Holding>()
  for (const f of fills) {
    cash =
      f.side === "buy"
        ? Math.max(0, cash - (f.quantity * f.price + f.fee))
        : cash + (f.quantity * f.price - f.fee)
    moveHolding(holdings, f.symbol, f.side, f.quantity, f.price)
  }
  return { cash, holdings }
}

const toBroker = (o: DeploymentOrder, fills: ReadonlyArray<Fill>): BrokerOrder => {
  const fill = fills.find((f) => f.clientOrderId === o.clientOrderId)
  return {
    orderId: o.orderId!,
    clientOrderId: o.clientOrderId,
    symbol: o.symbol,
    side: o.side,
    type: o.type,
    quantity: o.quantity,
    filledQuantity: fill?.quantity ?? 0,
    ...(o.limitPrice !== null && { limitPrice: o.limitPrice }),
    ...(o.stopPrice !== null && { stopPrice: o.stopPrice }),
    ...(fill !== undefined && { averagePrice: fill.price, fee: fill.fee }),
    status:
      o.status === "rejected" || o.status === "unplaced"
        ? "canceled"
        : o.status === "sending"
          ? "pending"
          : o.status,
    createdAt: o.placedAt,
    ...(o.reason !== null && { reason: o.reason })
  }
}

/** A broker account's orders by client order id; open and `sending` ones are working. */
const brokerBook = (p: PersistedDeployment) => {
  const known = p.orders.filter(({ order }) => order.orderId !== null || order.status === "sending")
  const orders = new Map(
    known.map(
      ({ order }) =>
        [order.clientOrderId, toBroker({ ...order, orderId: order.orderId ?? "" }, p.fills)] as const
    )
  )
  return {
    orders,
    byClientId: new Map([...orders.keys()].map((key) => [key, key] as const)),
    working: known
      .filter(({ order }) => order.status === "open" || order.status === "sending")
      .map(({ order }) => ({ order: orders.get(order.clientOrderId)!, after: order.placedAt }))
  }
}

export const restoreDeployment = (p: PersistedDeployment): DeploymentState => {
  const { cash, holdings } = replayFills(p.initialCash, p.fills)
  const placed = p.orders.filter((o) => o.order.orderId !== null)
  const orders = new Map(placed.map(({ order }) => [order.orderId!, toBroker(order, p.fills)] as const))
  const numbers = placed.map(({ order }) => Number(order.orderId!.replace(/^P/, ""))).filter(Number.isFinite)
  const account: Paper.PaperState = {
    ...Paper.openAccount(p.settings, p.initialCash),
    cash,
    holdings,
    orders,
    byClientId: new Map(placed.map(({ order }) => [order.clientOrderId, order.orderId!] as const)),
    // An order may fill in a bar after the one it was placed on (placedAt is that bar's open time).
    working: placed
      .filter(({ order }) => order.status === "open")
      .map(({ order }) => ({ order: orders.get(order.orderId!)!, after: order.placedAt })),
    lastBars: new Map(p.marks),
    nextId: numbers.length === 0 ? 1 : Math.max(...numbers) + 1,
    ...(p.venue === "broker" ? brokerBook(p) : {})
  }
  return {
    id: p.id,
    venue: p.venue,
    limits: p.limits,
    universe: new Set(p.universe),
    account,
    mode: p.mode,
    flattenAs: p.flattenAs,
    flattenMessage: p.flattenMessage,
    lastBarTs: p.lastBarTs,
    dayStart: p.dayStart,
    dayStartEquity: p.dayStartEquity ?? Paper.equity(account),
    nextSeq: p.orders.reduce((max, o) => Math.max(max, o.seq), 0) + 1,
    seqByClientId: new Map(p.orders.map(({ seq, order }) => [order.clientOrderId, seq] as const)),
    fillIds: new Set(p.fills.map((f) => f.id))
  }
}
