/**
 * A broker account's side of a deployment as a pure reducer, in the paper account's shape (so
 * equity, the strategy's view, risk checks and flattening read both alike). The broker decides
 * what fills: placing or cancelling here only records the intent (`send`, `cancel`) for the fiber
 * to carry out after it has persisted the order as `sending`; what the broker answers and reports
 * (`placed`, order changes, fills) comes back in as inputs. Orders are kept by client order id
 * (a `sending` order has no broker id yet); fills are counted once, by fill id.
 */
import type { BrokerOrder, Fill, OrderRequest } from "@quasar/providers/sdk"
import { moveHolding, orderOf } from "../paper/holdings"
import type { PaperBar, PaperCommand, PaperReply, PaperState } from "../paper/PaperAccount"

/** What the broker answered to an order the deployment sent. */
export type Placement =
  | { readonly type: "order"; readonly order: BrokerOrder }
  | { readonly type: "refused"; readonly reason: string; readonly message: string }
  /** Not at the broker after the time it guarantees an order could still appear. */
  | { readonly type: "unplaced"; readonly message: string }

export type Intent =
  | { readonly type: "send"; readonly request: OrderRequest }
  | { readonly type: "cancel"; readonly clientOrderId: string }

export interface LedgerStep {
  readonly state: PaperState
  readonly reply: PaperReply
  readonly intents: ReadonlyArray<Intent>
  /** Orders as they now stand (recorded by the caller). */
  readonly orders: ReadonlyArray<BrokerOrder>
  readonly fills: ReadonlyArray<Fill>
}

const isOpen = (o: BrokerOrder) => o.status === "open" || o.status === "pending"

const none = (state: PaperState, reply: PaperReply = undefined): LedgerStep => ({
  state,
  reply,
  intents: [],
  orders: [],
  fills: []
})

/** The order as it stands, kept working while it is open. */
const withOrder = (state: PaperState, order: BrokerOrder): PaperState => {
  const key = order.clientOrderId ?? order.orderId
  const working = state.working.filter((w) => w.order.clientOrderId !== key)
  return {
    ...state,
    orders: new Map(state.orders).set(key, order),
    byClientId: new Map(state.byClientId).set(key, key),
    working: isOpen(order)
      ? [...working, { order, after: state.working.find((w) => w.order.clientOrderId === key)?.after ?? 0 }]
      : working
  }
}

const place = (state: PaperState, request: OrderRequest, at: number): LedgerStep => {
  const known = state.orders.get(request.clientOrderId)
  if (known !== undefined) return none(state, { ok: true, order: known })
  // No broker id yet: the broker gives it when it answers (`placed`).
  const order = orderOf(request, "", "pending", at)
  return {
    state: withOrder(state, order),
    reply: { ok: true, order },
    intents: [{ type: "send", request }],
    orders: [],
    fills: []
  }
}

const cancel = (state: PaperState, clientOrderId: string): LedgerStep => {
  const order = state.orders.get(clientOrderId)
  if (order === undefined)
    return none(state, {
      ok: false,
      refusal: { reason: "unknownOrder", message: `no order ${clientOrderId} in this account` }
    })
  if (!isOpen(order)) return none(state, { ok: true, order })
  return { ...none(state, { ok: true, order }), intents: [{ type: "cancel", clientOrderId }] }
}

const mark = (state: PaperState, symbol: string, bar: PaperBar): LedgerStep => {
  const previous = state.lastBars.get(symbol)
  if (previous !== undefined && bar.ts <= previous.ts) return none(state)
  return none({ ...state, lastBars: new Map(state.lastBars).set(symbol, bar) })
}

/** Commands of the deployment (the same as a paper account's): the broker does the filling. */
export const command = (state: PaperState, c: PaperCommand): LedgerStep => {
  switch (c.type) {
    case "place":
      return place(state, c.request, c.at)
    case "cancel":
      return cancel(state, "clientOrderId" in c.ref ? c.ref.clientOrderId : c.ref.orderId)
    case "bar":
      return mark(state, c.symbol, c.bar)
  }
}

/** The broker's answer to an order sent; ignored for an order this deployment does not have. */
export const placed = (state: PaperState, clientOrderId: string, placement: Placement): LedgerStep => {
  const order = state.orders.get(clientOrderId)
  if (order === undefined) return none(state)
  if (placement.type === "order") return orderChanged(state, { ...placement.order, clientOrderId })
  // The caller records it as refused or unplaced: it never was a broker order.
  return none(withOrder(state, { ...order, status: "canceled", reason: placement.message }))
}

/** An order change the broker reported (with this deployment's client order id). */
export const orderChanged = (state: PaperState, order: BrokerOrder): LedgerStep => {
  const key = order.clientOrderId
  const known = key === undefined ? undefined : state.orders.get(key)
  if (known === undefined) return none(state)
  // The recorded fill count stays with the ledger's own fills: the broker's may be ahead of them.
  const next: BrokerOrder = { ...order, createdAt: known.createdAt }
  return { ...none(withOrder(state, next)), orders: [next] }
}

/** A fill the broker reported: cash and holdings move once per fill id. */
export const filled = (state: PaperState, fill: Fill, seen: ReadonlySet<string>): LedgerStep => {
  if (seen.has(fill.id) || fill.clientOrderId === undefined || !state.orders.has(fill.clientOrderId))
    return none(state)
  const holdings = new Map(state.holdings)
  moveHolding(holdings, fill.symbol, fill.side, fill.quantity, fill.price)
  const cash =
    fill.side === "buy"
      ? state.cash - (fill.quantity * fill.price + fill.fee)
      : state.cash + (fill.quantity * fill.price - fill.fee)
  return { ...none({ ...state, cash, holdings }), fills: [fill] }
}
