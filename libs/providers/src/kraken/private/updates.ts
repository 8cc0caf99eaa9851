/**
 * Order updates from polling Kraken's REST API, as a pure reducer: each poll brings the open
 * orders, the trades since the cursor and the orders looked up (those that left the open list
 * or have fills of unknown orders); the reducer says what changed and what to poll next.
 * The thin loop that polls lives in the broker.
 */
import type { BrokerEvent, BrokerOrder, Fill } from "../../sdk"

interface Known {
  /** `status|filledQuantity` as last reported. */
  readonly signature: string
  readonly clientOrderId: string | undefined
  /** Pending or open when last seen: its disappearance from the open list is a change to look up. */
  readonly working: boolean
}

export interface UpdatesState {
  readonly orders: ReadonlyMap<string, Known>
  /** Fills already yielded that a later TradesHistory may repeat, by id, with their time. */
  readonly fills: ReadonlyMap<string, number>
  /** The time of the newest fill yielded (or the requested start). */
  readonly since: number
}

export interface PollSnapshot {
  readonly open: ReadonlyArray<BrokerOrder>
  readonly queried: ReadonlyArray<BrokerOrder>
  /** Without client order ids: trades do not carry them, the reducer fills them in. */
  readonly fills: ReadonlyArray<Fill>
}

/** Closed orders remembered (for fills that arrive late); working ones are always kept. */
const CLOSED_KEPT = 1_000

export const initialUpdates = (since: number): UpdatesState => ({
  orders: new Map(),
  fills: new Map(),
  since
})

/**
 * TradesHistory's `start`, unix seconds, exclusive (spec): one second before the cursor, so a
 * fill in the cursor's own second is asked for again and dropped by id.
 */
export const tradesStart = (state: UpdatesState): number => Math.max(0, Math.floor(state.since / 1_000) - 1)

const signatureOf = (order: BrokerOrder): string => `${order.status}|${order.filledQuantity}`

const isWorking = (order: BrokerOrder): boolean => order.status === "pending" || order.status === "open"

/** Orders to look up: working ones that left the open list, and unknown orders that have fills. */
export const ordersToQuery = (
  state: UpdatesState,
  open: ReadonlyArray<BrokerOrder>,
  fills: ReadonlyArray<Fill>
): Array<string> => {
  const openIds = new Set(open.map((o) => o.orderId))
  const ids = new Set<string>()
  for (const [id, known] of state.orders) if (known.working && !openIds.has(id)) ids.add(id)
  for (const fill of fills)
    if (!openIds.has(fill.orderId) && !state.orders.has(fill.orderId)) ids.add(fill.orderId)
  return [...ids]
}

export const reduceUpdates = (
  state: UpdatesState,
  snapshot: PollSnapshot
): { readonly state: UpdatesState; readonly events: ReadonlyArray<BrokerEvent> } => {
  const seen = new Map<string, BrokerOrder>()
  for (const order of [...snapshot.queried, ...snapshot.open]) seen.set(order.orderId, order)

  const clientIdOf = (orderId: string) =>
    seen.get(orderId)?.clientOrderId ?? state.orders.get(orderId)?.clientOrderId
  const fills = snapshot.fills
    .filter((f) => !state.fills.has(f.id))
    .map((f) => ({ ...f, clientOrderId: f.clientOrderId ?? clientIdOf(f.orderId) }))
    .sort((a, b) => a.ts - b.ts || a.id.localeCompare(b.id))
  const events: Array<BrokerEvent> = fills.map((fill) => ({ type: "fill", fill }))

  const orders = new Map(state.orders)
  for (const order of seen.values()) {
    const signature = signatureOf(order)
    if (orders.get(order.orderId)?.signature !== signature) events.push({ type: "order", order })
    orders.delete(order.orderId)
    orders.set(order.orderId, { signature, clientOrderId: order.clientOrderId, working: isWorking(order) })
  }
  // Map order is insertion order: the oldest closed entries go first.
  let closed = [...orders.values()].filter((k) => !k.working).length
  for (const [id, known] of orders) {
    if (closed <= CLOSED_KEPT) break
    if (!known.working) {
      orders.delete(id)
      closed--
    }
  }

  const since = Math.max(state.since, ...fills.map((f) => f.ts))
  const keepFrom = (Math.floor(since / 1_000) - 1) * 1_000
  const fillIds = new Map<string, number>()
  for (const [id, ts] of state.fills) if (ts >= keepFrom) fillIds.set(id, ts)
  for (const fill of fills) if (fill.ts >= keepFrom) fillIds.set(fill.id, fill.ts)

  if (events.length === 0) events.push({ type: "heartbeat" })
  return { state: { orders, fills: fillIds, since }, events }
}
