/**
 * The deployment reducer's steps on a broker account's reports: the broker's answer to an order
 * sent, its order changes and its fills (see BrokerLedger), each ending a flattening deployment
 * once the account is flat; and its balances compared with what the deployment expects.
 */
import type { Balance, BrokerOrder, Fill } from "@quasar/providers/sdk"
import type * as Paper from "../paper/PaperAccount"
import * as Ledger from "./BrokerLedger"
import type { DeploymentState, DeploymentStep } from "./DeploymentState"
import { EventLog, fromBroker } from "./EventLog"

export const isFlat = (account: Paper.PaperState) =>
  account.holdings.size === 0 && account.working.length === 0

/** A flattening deployment whose account is flat now ends. */
export const endIfFlat = (b: EventLog, ts: number) => {
  if (b.state.mode === "flattening" && isFlat(b.state.account)) {
    b.state = { ...b.state, mode: "ended" }
    b.status(b.state.flattenAs, `${b.state.flattenMessage}; flat now`, null, ts)
  }
}

/** The broker's answer to an order sent: recorded with the broker's id, or refused or never placed. */
export const onPlaced = (
  state: DeploymentState,
  clientOrderId: string,
  placement: Ledger.Placement
): DeploymentStep => {
  const recorded = state.account.orders.get(clientOrderId)
  if (recorded === undefined) return { state, events: [], decide: false }
  const b = new EventLog(state)
  const ts = recorded.createdAt
  b.ledger(Ledger.placed(b.state.account, clientOrderId, placement))
  if (placement.type === "order")
    b.audit(
      ts,
      "order",
      "placed",
      clientOrderId,
      `the broker took it as order ${placement.order.orderId} (${placement.order.status})`
    )
  else {
    const seq = b.state.seqByClientId.get(clientOrderId) ?? 0
    const status = placement.type === "refused" ? "rejected" : "unplaced"
    const reason =
      placement.type === "refused" ? `${placement.reason}: ${placement.message}` : placement.message
    b.order(seq, { ...fromBroker(recorded), orderId: null, status, placedAt: ts, reason })
    b.audit(ts, "order", placement.type === "refused" ? "refused" : "unplaced", clientOrderId, reason)
  }
  endIfFlat(b, ts)
  return { state: b.state, events: b.events, decide: false }
}

export const onBrokerOrder = (state: DeploymentState, order: BrokerOrder): DeploymentStep => {
  const key = order.clientOrderId
  const recorded = key === undefined ? undefined : state.account.orders.get(key)
  if (recorded === undefined) return { state, events: [], decide: false }
  const b = new EventLog(state)
  b.ledger(Ledger.orderChanged(b.state.account, order))
  if (order.status !== recorded.status && (order.status === "canceled" || order.status === "expired"))
    b.audit(
      recorded.createdAt,
      "order",
      order.status,
      key ?? null,
      `the broker reports it ${order.status}${order.reason === undefined ? "" : `: ${order.reason}`}`
    )
  endIfFlat(b, recorded.createdAt)
  return { state: b.state, events: b.events, decide: false }
}

export const onBrokerFill = (state: DeploymentState, fill: Fill): DeploymentStep => {
  const b = new EventLog(state)
  b.ledger(Ledger.filled(b.state.account, fill, b.state.fillIds))
  endIfFlat(b, b.state.lastBarTs ?? fill.ts)
  return { state: b.state, events: b.events, decide: false }
}

/** An asset the broker holds less of than the deployment expects. */
export interface Shortfall {
  readonly asset: string
  readonly expected: number
  readonly atBroker: number
}

/** Rounding the broker applies to amounts (Kraken keeps 10 decimals, some assets fewer). */
const TOLERANCE = 1e-8

/**
 * What the broker holds less of than the deployment expects: its quote cash and the base asset of
 * each symbol it holds (universe keys are `BASE/QUOTE`). More at the broker is normal: the account
 * may hold other money.
 */
export const shortfalls = (state: DeploymentState, balances: ReadonlyArray<Balance>): Array<Shortfall> => {
  const atBroker = (asset: string) => balances.find((b) => b.asset === asset)?.total ?? 0
  const expected = new Map<string, number>([[state.account.settings.quote, state.account.cash]])
  for (const [symbol, holding] of state.account.holdings) {
    const base = symbol.split("/")[0] ?? symbol
    expected.set(base, (expected.get(base) ?? 0) + holding.quantity)
  }
  const short: Array<Shortfall> = []
  for (const [asset, amount] of expected) {
    const held = atBroker(asset)
    if (held + TOLERANCE * Math.max(1, amount) < amount)
      short.push({ asset, expected: amount, atBroker: held })
  }
  return short
}

export const describeShortfalls = (short: ReadonlyArray<Shortfall>) =>
  `the broker holds less than the deployment expects: ${short
    .map((s) => `${s.atBroker} ${s.asset} where ${s.expected} is expected`)
    .join(
      ", "
    )}; money left the account outside this deployment. Nothing is moved: the deployment keeps running and the broker refuses the orders it cannot cover; put the funds back or stop the deployment`

/** The broker's balances at `ts`: a shortfall is an audit entry; nothing else changes. */
export const onBrokerBalances = (
  state: DeploymentState,
  ts: number,
  balances: ReadonlyArray<Balance>
): DeploymentStep => {
  const short = shortfalls(state, balances)
  if (short.length === 0) return { state, events: [], decide: false }
  const b = new EventLog(state)
  b.audit(ts, "risk", "balance-short", null, describeShortfalls(short))
  return { state: b.state, events: b.events, decide: false }
}
