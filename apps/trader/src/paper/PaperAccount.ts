/**
 * A paper trading account as a pure reducer: `step(state, command)` gives the next state, the
 * broker events the command caused, and the reply to the caller. The fill model is the backtests'
 * (engine/fillModel.ts, the README's "Fill model"), so a strategy trades on paper exactly as it
 * did in its backtest:
 * - an order may fill in the first closed bar of its symbol that opens after the last bar the
 *   account had seen when it was placed (a market order placed when bar t closes fills at bar
 *   t+1's open, as in a backtest);
 * - limit and stop orders fill when that bar's range reaches their price, at the open when it
 *   opens through it; fees and slippage in basis points; no partial fills;
 * - a buy the cash cannot cover, or a sell of more than the position (no short selling), is
 *   refused at placement when it is certain then, and cancelled with the reason at its fill
 *   otherwise.
 * Placing is idempotent on `clientOrderId`: the same id gives back the order placed first.
 * The deployment's fiber feeds it commands and persists the events; nothing here reads a clock.
 */
import type {
  Balance,
  BrokerEvent,
  BrokerOrder,
  Fill,
  OrderRef,
  OrderRequest,
  Position
} from "@quasar/providers/sdk"
import { feeOf, fillPrice, unfillablePrice } from "../engine/fillModel"
import { EPSILON, type Holding, moveHolding, orderOf } from "./holdings"

export interface PaperSettings {
  /** The account's cash currency (`USD`); symbols are `BASE/QUOTE` pairs in it. */
  readonly quote: string
  readonly feeBps: number
  readonly slippageBps: number
}

export interface PaperBar {
  readonly ts: number
  readonly open: number
  readonly high: number
  readonly low: number
  readonly close: number
}

interface Working {
  readonly order: BrokerOrder
  /** The open time of the last bar of its symbol seen when it was placed: it fills in a later one. */
  readonly after: number
}

export interface PaperState {
  readonly settings: PaperSettings
  readonly cash: number
  readonly holdings: ReadonlyMap<string, Holding>
  /** Every order by the account's own id, open or closed. */
  readonly orders: ReadonlyMap<string, BrokerOrder>
  readonly byClientId: ReadonlyMap<string, string>
  /** Open orders, oldest first. */
  readonly working: ReadonlyArray<Working>
  /** The last closed bar of each symbol. */
  readonly lastBars: ReadonlyMap<string, PaperBar>
  readonly nextId: number
}

export type PaperCommand =
  | { readonly type: "place"; readonly request: OrderRequest; readonly at: number }
  | { readonly type: "cancel"; readonly ref: OrderRef; readonly at: number }
  | { readonly type: "bar"; readonly symbol: string; readonly bar: PaperBar }

/** A refusal in the SDK's reasons (`FatalError` reasons of `placeOrder`/`cancelOrder`). */
export interface PaperRefusal {
  readonly reason: "insufficientFunds" | "invalidOrder" | "unknownOrder"
  readonly message: string
}

export type PaperReply =
  | { readonly ok: true; readonly order: BrokerOrder }
  | { readonly ok: false; readonly refusal: PaperRefusal }
  | undefined

export interface PaperStep {
  readonly state: PaperState
  readonly events: ReadonlyArray<BrokerEvent>
  readonly reply: PaperReply
}

export const openAccount = (settings: PaperSettings, cash: number): PaperState => ({
  settings,
  cash,
  holdings: new Map(),
  orders: new Map(),
  byClientId: new Map(),
  working: [],
  lastBars: new Map(),
  nextId: 1
})

const positive = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x) && x > 0

const requestProblem = (r: OrderRequest): string | undefined => {
  if (typeof r.clientOrderId !== "string" || r.clientOrderId.length === 0) return "clientOrderId is required"
  if (typeof r.symbol !== "string" || !r.symbol.includes("/")) return "symbol must be a BASE/QUOTE pair"
  if (r.side !== "buy" && r.side !== "sell") return 'side must be "buy" or "sell"'
  if (!positive(r.quantity)) return `quantity must be a finite number above 0 (got ${String(r.quantity)})`
  switch (r.type) {
    case "market":
      return r.limitPrice !== undefined || r.stopPrice !== undefined
        ? "a market order takes neither limitPrice nor stopPrice"
        : undefined
    case "limit":
      if (!positive(r.limitPrice)) return "a limit order needs a limitPrice above 0"
      return r.stopPrice !== undefined ? "a limit order takes no stopPrice" : undefined
    case "stop":
      if (!positive(r.stopPrice)) return "a stop order needs a stopPrice above 0"
      return r.limitPrice !== undefined
        ? "stop-limit orders are not modelled on paper; give no limitPrice"
        : undefined
    default:
      return 'type must be "market", "limit" or "stop"'
  }
}

const BPS = 10_000

/** What a buy of `quantity` costs at `price`, slippage and fee included. */
const buyCost = (s: PaperSettings, quantity: number, price: number) => {
  const paid = price * (1 + s.slippageBps / BPS)
  return quantity * paid + feeOf(quantity, paid, s.feeBps)
}

/** Cash the open buys would take if they filled at their reference price (limit, stop or last close). */
const reservedCash = (state: PaperState) =>
  state.working.reduce((sum, w) => {
    const o = w.order
    if (o.side !== "buy") return sum
    const ref = o.limitPrice ?? o.stopPrice ?? state.lastBars.get(o.symbol)?.close
    return ref === undefined ? sum : sum + buyCost(state.settings, o.quantity, ref)
  }, 0)

const reservedUnits = (state: PaperState, symbol: string) =>
  state.working.reduce(
    (sum, w) => (w.order.side === "sell" && w.order.symbol === symbol ? sum + w.order.quantity : sum),
    0
  )

const refuse = (state: PaperState, reason: PaperRefusal["reason"], message: string): PaperStep => ({
  state,
  events: [],
  reply: { ok: false, refusal: { reason, message } }
})

const place = (state: PaperState, request: OrderRequest, at: number): PaperStep => {
  const known = state.byClientId.get(request.clientOrderId)
  if (known !== undefined) return { state, events: [], reply: { ok: true, order: state.orders.get(known)! } }
  const problem = requestProblem(request)
  if (problem !== undefined) return refuse(state, "invalidOrder", problem)
  const held = state.holdings.get(request.symbol)?.quantity ?? 0
  if (
    request.side === "sell" &&
    request.quantity > (held - reservedUnits(state, request.symbol)) * (1 + EPSILON)
  )
    return refuse(
      state,
      "insufficientFunds",
      `sells ${request.quantity} ${request.symbol} but ${held} are held (less what open sells take); short selling is not modelled`
    )
  const last = state.lastBars.get(request.symbol)
  const reference = request.limitPrice ?? request.stopPrice ?? last?.close
  if (request.side === "buy" && reference !== undefined) {
    const cost = buyCost(state.settings, request.quantity, reference)
    const available = state.cash - reservedCash(state)
    if (cost > available * (1 + EPSILON))
      return refuse(
        state,
        "insufficientFunds",
        `needs about ${cost.toFixed(2)} ${state.settings.quote} but ${available.toFixed(2)} is available`
      )
  }
  const orderId = `P${state.nextId}`
  const order = orderOf(request, orderId, "open", at)
  return {
    state: {
      ...state,
      orders: new Map(state.orders).set(orderId, order),
      byClientId: new Map(state.byClientId).set(request.clientOrderId, orderId),
      working: [...state.working, { order, after: last?.ts ?? at - 1 }],
      nextId: state.nextId + 1
    },
    events: [{ type: "order", order }],
    reply: { ok: true, order }
  }
}

const cancel = (state: PaperState, ref: OrderRef, at: number): PaperStep => {
  const orderId = "orderId" in ref ? ref.orderId : state.byClientId.get(ref.clientOrderId)
  const order = orderId === undefined ? undefined : state.orders.get(orderId)
  if (order === undefined)
    return refuse(state, "unknownOrder", `no order ${JSON.stringify(ref)} in this account`)
  if (order.status !== "open") return { state, events: [], reply: { ok: true, order } }
  const cancelled: BrokerOrder = {
    ...order,
    status: "canceled",
    closedAt: at,
    reason: "cancelled by the user"
  }
  return {
    state: {
      ...state,
      orders: new Map(state.orders).set(order.orderId, cancelled),
      working: state.working.filter((w) => w.order.orderId !== order.orderId)
    },
    events: [{ type: "order", order: cancelled }],
    reply: { ok: true, order: cancelled }
  }
}

/** The new closed bar fills what it can of its symbol's open orders, oldest first. */
const onBar = (state: PaperState, symbol: string, bar: PaperBar): PaperStep => {
  const previous = state.lastBars.get(symbol)
  if (previous !== undefined && bar.ts <= previous.ts) return { state, events: [], reply: undefined }
  const s = state.settings
  let cash = state.cash
  const holdings = new Map(state.holdings)
  const orders = new Map(state.orders)
  const events: Array<BrokerEvent> = []
  const working: Array<Working> = []
  for (const w of state.working) {
    const order = w.order
    const price =
      order.symbol === symbol && bar.ts > w.after ? fillPrice(order, bar, s.slippageBps) : undefined
    if (price === undefined) {
      working.push(w)
      continue
    }
    const held = holdings.get(symbol) ?? { quantity: 0, averagePrice: 0 }
    const fee = feeOf(order.quantity, price, s.feeBps)
    const closedAt = bar.ts
    let problem = unfillablePrice(price)
    if (problem === undefined) {
      if (order.side === "buy") {
        const cost = order.quantity * price + fee
        if (cost > cash * (1 + EPSILON))
          problem = `needs ${cost.toFixed(2)} ${s.quote} but cash is ${cash.toFixed(2)}`
        else {
          cash = Math.max(0, cash - cost)
          moveHolding(holdings, symbol, "buy", order.quantity, price)
        }
      } else if (order.quantity > held.quantity * (1 + EPSILON))
        problem = `sells ${order.quantity} but the position is ${held.quantity}; short selling is not modelled`
      else {
        cash += order.quantity * price - fee
        moveHolding(holdings, symbol, "sell", order.quantity, price)
      }
    }
    const done: BrokerOrder =
      problem === undefined
        ? { ...order, status: "filled", filledQuantity: order.quantity, averagePrice: price, fee, closedAt }
        : { ...order, status: "canceled", closedAt, reason: problem }
    orders.set(order.orderId, done)
    if (problem === undefined) {
      const fill: Fill = {
        id: `${order.orderId}-1`,
        orderId: order.orderId,
        clientOrderId: order.clientOrderId,
        symbol,
        side: order.side,
        quantity: order.quantity,
        price,
        fee,
        ts: bar.ts,
        liquidity: order.type === "limit" ? "maker" : "taker"
      }
      events.push({ type: "fill", fill })
    }
    events.push({ type: "order", order: done })
  }
  return {
    state: { ...state, cash, holdings, orders, working, lastBars: new Map(state.lastBars).set(symbol, bar) },
    events,
    reply: undefined
  }
}

export const step = (state: PaperState, command: PaperCommand): PaperStep => {
  switch (command.type) {
    case "place":
      return place(state, command.request, command.at)
    case "cancel":
      return cancel(state, command.ref, command.at)
    case "bar":
      return onBar(state, command.symbol, command.bar)
  }
}

export const openOrders = (state: PaperState): ReadonlyArray<BrokerOrder> => state.working.map((w) => w.order)

export const positions = (state: PaperState): ReadonlyArray<Position> =>
  [...state.holdings].map(([symbol, h]) => ({ symbol, quantity: h.quantity, averagePrice: h.averagePrice }))

/** Cash in the quote currency (available: less what open buys would take) and each base asset held. */
export const balances = (state: PaperState): ReadonlyArray<Balance> => [
  {
    asset: state.settings.quote,
    total: state.cash,
    available: Math.max(0, state.cash - reservedCash(state))
  },
  ...[...state.holdings].map(([symbol, h]) => ({
    asset: symbol.split("/")[0]!,
    total: h.quantity,
    available: Math.max(0, h.quantity - reservedUnits(state, symbol))
  }))
]

/** Cash plus every position at its symbol's last close. */
export const equity = (state: PaperState): number =>
  [...state.holdings].reduce(
    (sum, [symbol, h]) => sum + h.quantity * (state.lastBars.get(symbol)?.close ?? h.averagePrice),
    state.cash
  )
