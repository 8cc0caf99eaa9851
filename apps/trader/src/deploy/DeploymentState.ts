/**
 * One deployment as a pure reducer: closed bars and the strategy's decisions go in; the paper
 * account's orders and fills, marks, equity points, status changes and the audit trail (every
 * order and every risk decision) come out as events for the fiber to persist. Nothing here reads
 * a clock: times are bar open times, so handling the same input twice gives the same events with
 * the same keys (client order ids `<deployment>-<bar time>-<n>`), which the tables drop.
 *
 * A bar first fills what it can of the open orders (the backtests' fill model, through
 * PaperAccount), then the daily loss is checked (a breach stops and flattens), then, while
 * running, `decide` asks the fiber for the strategy's orders on that bar.
 *
 * On a broker account (`venue: "broker"`) the broker fills: an order is recorded as `sending`
 * with an `intent` event the fiber carries out after persisting the step, and the broker's
 * answer (`placed`), order changes and fills come back as inputs (see BrokerLedger).
 */
import type { AuditEntry, AuditKind, DeploymentOrder, DeploymentStatus, RiskLimits } from "@quasar/domain"
import type { Balance, Bar, BrokerOrder, Fill, StrategyOrderInput } from "@quasar/providers/sdk"
import { orderProblem } from "../engine/orderProblems"
import * as Paper from "../paper/PaperAccount"
import type * as Ledger from "./BrokerLedger"
import { endIfFlat, isFlat, onBrokerBalances, onBrokerFill, onBrokerOrder, onPlaced } from "./brokerSteps"
import { EventLog } from "./EventLog"
import { checkOrder, dailyLossBreach, dayOf } from "./RiskLimits"

export type Mode = "running" | "flattening" | "ended"
export type FlattenAs = "killed" | "breached"
/** Who fills the orders: the paper account's fill model, or a broker. */
export type Venue = "paper" | "broker"

export interface DeploymentState {
  readonly id: number
  readonly venue: Venue
  readonly limits: RiskLimits
  /** The strategy's universe keys, which are the account's symbols. */
  readonly universe: ReadonlySet<string>
  readonly account: Paper.PaperState
  readonly mode: Mode
  readonly flattenAs: FlattenAs
  /** Why it is flattening (the kill switch, the breach), kept for its final status. */
  readonly flattenMessage: string
  readonly lastBarTs: number | undefined
  readonly dayStart: number | undefined
  readonly dayStartEquity: number
  /** The id the strategy's next order gets (what `ctx.order` returns). */
  readonly nextSeq: number
  readonly seqByClientId: ReadonlyMap<string, number>
  /** A broker account's fills already counted (its reports may repeat them). */
  readonly fillIds: ReadonlySet<string>
}

export type DeploymentInput =
  | { readonly type: "bar"; readonly bar: Bar }
  | {
      readonly type: "decision"
      readonly ts: number
      readonly orders: ReadonlyArray<StrategyOrderInput>
      /** Strategy ids of open orders to cancel. */
      readonly cancels: ReadonlyArray<number>
    }
  | { readonly type: "kill"; readonly message: string }
  | { readonly type: "fail"; readonly ts: number; readonly message: string }
  /** A broker's answer to an order sent (client order ids and symbols are the deployment's). */
  | { readonly type: "placed"; readonly clientOrderId: string; readonly placement: Ledger.Placement }
  | { readonly type: "brokerOrder"; readonly order: BrokerOrder }
  | { readonly type: "brokerFill"; readonly fill: Fill }
  /** The broker's balances at `ts` (canonical asset codes), compared with what the ledger expects. */
  | { readonly type: "brokerBalances"; readonly ts: number; readonly balances: ReadonlyArray<Balance> }

export type DeploymentEvent =
  | { readonly type: "order"; readonly seq: number; readonly order: DeploymentOrder }
  /** For the fiber to carry out at the broker once the step is persisted; nothing to store. */
  | { readonly type: "intent"; readonly intent: Ledger.Intent }
  | { readonly type: "fill"; readonly fill: Fill }
  | { readonly type: "audit"; readonly key: string; readonly entry: AuditEntry }
  | { readonly type: "equity"; readonly ts: number; readonly cash: number; readonly equity: number }
  | { readonly type: "mark"; readonly symbol: string; readonly bar: Paper.PaperBar }
  | {
      readonly type: "status"
      readonly status: DeploymentStatus
      readonly message: string | null
      readonly flattenAs: FlattenAs | null
    }
  | {
      readonly type: "progress"
      readonly lastBarTs: number
      readonly dayStart: number
      readonly dayStartEquity: number
    }

export interface DeploymentStep {
  readonly state: DeploymentState
  readonly events: ReadonlyArray<DeploymentEvent>
  /** The strategy should decide on this bar (the deployment runs and the bar is new). */
  readonly decide: boolean
}

export const start = (
  id: number,
  limits: RiskLimits,
  universe: ReadonlyArray<string>,
  account: Paper.PaperState,
  venue: Venue = "paper"
): DeploymentState => ({
  id,
  venue,
  limits,
  universe: new Set(universe),
  account,
  mode: "running",
  flattenAs: "killed",
  flattenMessage: "",
  lastBarTs: undefined,
  dayStart: undefined,
  dayStartEquity: Paper.equity(account),
  nextSeq: 1,
  seqByClientId: new Map(),
  fillIds: new Set()
})

const BPS = 10_000

/** Cancels every open order and sells every position at market; ends at once when already flat. */
const flatten = (b: EventLog, ts: number, as: FlattenAs, message: string) => {
  const broker = b.state.venue === "broker"
  for (const w of b.state.account.working) {
    b.account({
      type: "cancel",
      ref: broker ? { clientOrderId: w.order.clientOrderId ?? "" } : { orderId: w.order.orderId },
      at: ts
    })
    b.audit(
      ts,
      "order",
      broker ? "cancel-sent" : "canceled",
      w.order.clientOrderId ?? null,
      `${broker ? "cancel sent to the broker" : "cancelled"} to flatten: ${message}`
    )
  }
  for (const [symbol, holding] of b.state.account.holdings) {
    const clientOrderId = `${b.state.id}-${ts}-flatten-${symbol}`
    if (b.state.seqByClientId.has(clientOrderId)) continue
    b.assign(clientOrderId)
    const reply = b.account({
      type: "place",
      request: { clientOrderId, symbol, side: "sell", type: "market", quantity: holding.quantity },
      at: ts
    })
    b.audit(
      ts,
      "order",
      reply?.ok ? placedDecision(b.state) : "refused",
      clientOrderId,
      reply?.ok
        ? `flatten: sell ${holding.quantity} ${symbol} at market`
        : `flatten: the account refused to sell ${symbol}: ${reply?.refusal.message ?? "no reply"}`
    )
  }
  if (isFlat(b.state.account)) {
    b.state = { ...b.state, mode: "ended", flattenAs: as, flattenMessage: message }
    b.status(as, message, null, ts)
  } else {
    b.state = { ...b.state, mode: "flattening", flattenAs: as, flattenMessage: message }
    b.status("flattening", message, as, ts)
  }
}

/** A broker's order is only being sent when the step ends; a paper one is placed. */
const placedDecision = (state: DeploymentState) => (state.venue === "broker" ? "sending" : "placed")

const onBar = (state: DeploymentState, bar: Bar): DeploymentStep => {
  const seen = state.account.lastBars.get(bar.symbol)
  if (state.mode === "ended" || !state.universe.has(bar.symbol) || (seen !== undefined && bar.ts <= seen.ts))
    return { state, events: [], decide: false }
  const b = new EventLog(state)
  const before = Paper.equity(state.account)
  const mark: Paper.PaperBar = { ts: bar.ts, open: bar.open, high: bar.high, low: bar.low, close: bar.close }
  b.account({ type: "bar", symbol: bar.symbol, bar: mark })
  b.events.push({ type: "mark", symbol: bar.symbol, bar: mark })
  const day = dayOf(bar.ts)
  if (b.state.dayStart === undefined || day > b.state.dayStart)
    b.state = { ...b.state, dayStart: day, dayStartEquity: before }
  const equity = Paper.equity(b.state.account)
  b.events.push({ type: "equity", ts: bar.ts, cash: b.state.account.cash, equity })
  const lastBarTs = Math.max(bar.ts, b.state.lastBarTs ?? bar.ts)
  b.state = { ...b.state, lastBarTs }
  if (b.state.mode === "running") {
    const breach = dailyLossBreach(b.state.limits, b.state.dayStartEquity, equity)
    if (breach !== undefined) {
      b.audit(bar.ts, "risk", "breach", null, `maxDailyLoss breached: ${breach}; stopping and flattening`)
      flatten(b, bar.ts, "breached", `risk limit breached: ${breach}`)
    }
  } else if (
    b.state.mode === "flattening" &&
    !isFlat(b.state.account) &&
    b.state.account.working.length === 0
  )
    // Its sells ended without filling (refused, or never placed at a broker): sell again at market.
    flatten(b, bar.ts, b.state.flattenAs, b.state.flattenMessage)
  else endIfFlat(b, bar.ts)
  b.events.push({
    type: "progress",
    lastBarTs,
    dayStart: b.state.dayStart ?? day,
    dayStartEquity: b.state.dayStartEquity
  })
  return { state: b.state, events: b.events, decide: b.state.mode === "running" }
}

const rejected = (
  clientOrderId: string,
  input: StrategyOrderInput,
  ts: number,
  reason: string
): DeploymentOrder => ({
  clientOrderId,
  orderId: null,
  symbol: String(input?.symbol),
  side: input?.side === "sell" ? "sell" : "buy",
  type: input?.type === "limit" || input?.type === "stop" ? input.type : "market",
  quantity: typeof input?.quantity === "number" && Number.isFinite(input.quantity) ? input.quantity : 0,
  limitPrice:
    typeof input?.limitPrice === "number" && Number.isFinite(input.limitPrice) ? input.limitPrice : null,
  stopPrice:
    typeof input?.stopPrice === "number" && Number.isFinite(input.stopPrice) ? input.stopPrice : null,
  status: "rejected",
  placedAt: ts,
  reason
})

const placeOne = (b: EventLog, ts: number, index: number, input: StrategyOrderInput) => {
  const clientOrderId = `${b.state.id}-${ts}-${index}`
  if (b.state.seqByClientId.has(clientOrderId)) return
  const seq = b.assign(clientOrderId)
  const refuse = (kind: AuditKind, decision: string, reason: string) => {
    b.order(seq, rejected(clientOrderId, input, ts, reason))
    b.audit(ts, kind, decision, clientOrderId, reason)
  }
  const problem = orderProblem(input, b.state.universe)
  if (problem !== undefined) return refuse("order", "refused", problem)
  const s = b.state.account.settings
  const price = input.limitPrice ?? input.stopPrice ?? b.state.account.lastBars.get(input.symbol)?.close
  if (price === undefined)
    return refuse("order", "refused", `no bar of ${input.symbol} yet to price the order`)
  if (input.quantity === undefined && !(price > 0))
    return refuse("order", "refused", `cannot convert a notional into units at a price of ${price}`)
  // A notional converts at the reference price; a buy's includes slippage and fee (as in a backtest).
  const quantity =
    input.quantity ??
    (input.side === "buy"
      ? input.notional! / (price * (1 + (s.feeBps + s.slippageBps) / BPS))
      : input.notional! / price)
  const held = b.state.account.holdings.get(input.symbol)?.quantity ?? 0
  const risk = checkOrder(b.state.limits, { side: input.side, quantity, price }, held)
  if (!risk.ok) return refuse("risk", "rejected", risk.message)
  b.audit(ts, "risk", "accepted", clientOrderId, risk.message)
  const reply = b.account({
    type: "place",
    request: {
      clientOrderId,
      symbol: input.symbol,
      side: input.side,
      type: input.type,
      quantity,
      ...(input.limitPrice !== undefined && { limitPrice: input.limitPrice }),
      ...(input.stopPrice !== undefined && { stopPrice: input.stopPrice })
    },
    at: ts
  })
  if (reply === undefined || !reply.ok)
    return refuse("order", "refused", reply?.refusal.message ?? "the account did not answer")
  b.audit(
    ts,
    "order",
    placedDecision(b.state),
    clientOrderId,
    `${input.side} ${quantity} ${input.symbol} ${input.type}`
  )
}

const onDecision = (
  state: DeploymentState,
  ts: number,
  orders: ReadonlyArray<StrategyOrderInput>,
  cancels: ReadonlyArray<number>
): DeploymentStep => {
  if (state.mode !== "running") return { state, events: [], decide: false }
  const b = new EventLog(state)
  // Orders first: the strategy may cancel an order it placed in the same call.
  for (const [index, input] of orders.entries()) placeOne(b, ts, index, input)
  for (const id of cancels) {
    const clientOrderId = [...b.state.seqByClientId].find(([, seq]) => seq === id)?.[0]
    if (clientOrderId === undefined) continue
    const before = b.events.length
    const reply = b.account({ type: "cancel", ref: { clientOrderId }, at: ts })
    if (reply?.ok && reply.order.status === "canceled")
      b.audit(ts, "order", "canceled", clientOrderId, "cancelled by the strategy")
    else if (b.events.slice(before).some((e) => e.type === "intent"))
      b.audit(ts, "order", "cancel-sent", clientOrderId, "cancel sent to the broker for the strategy")
  }
  return { state: b.state, events: b.events, decide: false }
}

export const step = (state: DeploymentState, input: DeploymentInput): DeploymentStep => {
  switch (input.type) {
    case "bar":
      return onBar(state, input.bar)
    case "decision":
      return onDecision(state, input.ts, input.orders, input.cancels)
    case "kill": {
      if (state.mode === "ended") return { state, events: [], decide: false }
      const b = new EventLog(state)
      const ts = state.lastBarTs ?? 0
      b.audit(ts, "risk", "kill", null, input.message)
      flatten(b, ts, "killed", input.message)
      return { state: b.state, events: b.events, decide: false }
    }
    case "fail": {
      if (state.mode === "ended") return { state, events: [], decide: false }
      const b = new EventLog({ ...state, mode: "ended" })
      b.status("failed", input.message, null, input.ts)
      return { state: b.state, events: b.events, decide: false }
    }
    case "placed":
      return onPlaced(state, input.clientOrderId, input.placement)
    case "brokerOrder":
      return onBrokerOrder(state, input.order)
    case "brokerFill":
      return onBrokerFill(state, input.fill)
    case "brokerBalances":
      return onBrokerBalances(state, input.ts, input.balances)
  }
}
