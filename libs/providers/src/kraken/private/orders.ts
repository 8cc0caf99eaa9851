/**
 * Placing, finding and cancelling orders on Kraken, idempotent on the client order id
 * (Kraken's `cl_ord_id`) and never guessing an order's fate.
 *
 * Kraken "verifies cl_ord_id uniqueness across open orders for each client" only
 * (docs.kraken.com/api/docs/guides/spot-clordid), so idempotency is the broker's: before sending,
 * it looks the id up among open and closed orders. An AddOrder that gets no answer may still
 * execute; its `deadline` bounds when: past it "the matching engine should reject the new order
 * request" (spot REST spec, AddOrder: min now + 2 s, max now + 60 s). Until then an order that is
 * not visible is reported as `stateUnknown`, and the same id is not sent again.
 */
import {
  type BrokerOrder,
  FatalError,
  type OrderRef,
  type OrderRequest,
  orderRequestProblems,
  type ProviderContext,
  RetryableError
} from "../../sdk"
import type { KrakenPair } from "../parse"
import type { KrakenSymbols } from "../symbols"
import { addOrder, cancelOrder, closedOrders, openOrders, queryOrders } from "./api"
import { type KrakenAccess, NoAnswerError } from "./client"
import { reasonOf } from "./errors"
import { isKrakenClientOrderId, rfc3339, toAddOrder, toBrokerOrder } from "./mapping"

/** Kraken's clock and ours may differ a little: wait this much past a deadline before trusting it. */
const DEADLINE_MARGIN_MS = 5_000

/** AddOrder requests sent without an answer, by `apiKey|clientOrderId`, with their deadline. */
const unanswered = new Map<string, number>()
/** Placements under way in this process, by `apiKey|clientOrderId`: a second call joins the first. */
const underWay = new Map<string, Promise<BrokerOrder>>()

const orderOf = (symbols: KrakenSymbols, found: ReadonlyArray<Parameters<typeof toBrokerOrder>[0]>) =>
  found
    .map((o) => toBrokerOrder(o, symbols))
    .filter((o): o is BrokerOrder => o !== undefined)
    .sort((a, b) => b.createdAt - a.createdAt)[0]

/** The order with this client order id: the open one, else the newest closed one. */
export const findByClientId = async (
  ctx: ProviderContext,
  access: KrakenAccess,
  symbols: KrakenSymbols,
  clientOrderId: string
): Promise<BrokerOrder | undefined> =>
  orderOf(symbols, await openOrders(ctx, access, clientOrderId)) ??
  orderOf(symbols, await closedOrders(ctx, access, clientOrderId))

export const findOrder = async (
  ctx: ProviderContext,
  access: KrakenAccess,
  symbols: KrakenSymbols,
  ref: OrderRef
): Promise<BrokerOrder | undefined> => {
  if ("clientOrderId" in ref) return findByClientId(ctx, access, symbols, ref.clientOrderId)
  try {
    return orderOf(symbols, await queryOrders(ctx, access, [ref.orderId]))
  } catch (error) {
    // An id Kraken does not know may be refused rather than left out of the result.
    if (reasonOf(error) === "unknownOrder" || reasonOf(error) === "invalidOrder") return undefined
    throw error
  }
}

const invalid = (message: string) => new FatalError(message, { reason: "invalidOrder" })

/** Checks what Kraken would refuse anyway, before anything is sent. */
export const checkOrder = (order: OrderRequest): void => {
  const problems = orderRequestProblems(order)
  if (problems.length > 0) throw invalid(`invalid order ${order.clientOrderId}: ${problems.join("; ")}`)
  if (!isKrakenClientOrderId(order.clientOrderId))
    throw invalid(
      `Kraken takes a UUID or at most 18 ASCII characters as client order id, not ${JSON.stringify(order.clientOrderId)}`
    )
}

export interface PlaceOptions {
  /** How long after sending Kraken may still execute the order (clamped to 2–60 s). */
  readonly deadlineMs: number
}

export const placeOrder = (
  ctx: ProviderContext,
  access: KrakenAccess,
  symbols: KrakenSymbols,
  pair: KrakenPair,
  order: OrderRequest,
  options: PlaceOptions
): Promise<BrokerOrder> => {
  const key = `${access.apiKey}|${order.clientOrderId}`
  const running = underWay.get(key)
  if (running !== undefined) return running
  const placing = place(ctx, access, symbols, pair, order, options, key).finally(() => underWay.delete(key))
  underWay.set(key, placing)
  return placing
}

const place = async (
  ctx: ProviderContext,
  access: KrakenAccess,
  symbols: KrakenSymbols,
  pair: KrakenPair,
  order: OrderRequest,
  options: PlaceOptions,
  key: string
): Promise<BrokerOrder> => {
  const existing = await findByClientId(ctx, access, symbols, order.clientOrderId)
  if (existing !== undefined) {
    unanswered.delete(key)
    return existing
  }
  for (const [id, deadline] of unanswered)
    if (ctx.now() >= deadline + DEADLINE_MARGIN_MS && id !== key) unanswered.delete(id)
  const earlier = unanswered.get(key)
  if (earlier !== undefined && ctx.now() < earlier + DEADLINE_MARGIN_MS)
    throw stateUnknown(ctx, order, earlier)
  const deadline = ctx.now() + Math.min(60_000, Math.max(2_000, options.deadlineMs))
  unanswered.set(key, deadline)
  try {
    const { txid } = await addOrder(ctx, access, toAddOrder(order, pair, rfc3339(deadline)))
    unanswered.delete(key)
    return (await placedOrder(ctx, access, symbols, txid)) ?? accepted(order, txid, ctx.now())
  } catch (error) {
    if (!(error instanceof NoAnswerError)) {
      // Kraken answered: this request placed nothing.
      unanswered.delete(key)
      // Unless an open order already has the id (placed by another client of the account in
      // between): that one is the order.
      const duplicate =
        reasonOf(error) === "invalidOrder"
          ? orderOf(symbols, await openOrders(ctx, access, order.clientOrderId))
          : undefined
      if (duplicate !== undefined) return duplicate
      throw error
    }
    const found = await findByClientId(ctx, access, symbols, order.clientOrderId).catch(() => undefined)
    if (found !== undefined) {
      unanswered.delete(key)
      return found
    }
    throw stateUnknown(ctx, order, deadline, error)
  }
}

const stateUnknown = (ctx: ProviderContext, order: OrderRequest, deadline: number, cause?: unknown) =>
  new RetryableError(
    `Kraken AddOrder ${order.clientOrderId}: no answer and no such order yet; it may still execute until ${rfc3339(deadline)}. Look it up by client order id after that (placing it again does so first)`,
    { reason: "stateUnknown", retryAfterMs: Math.max(0, deadline + DEADLINE_MARGIN_MS - ctx.now()), cause }
  )

/** The order just placed, as Kraken reports it; undefined when that lookup fails. */
const placedOrder = async (
  ctx: ProviderContext,
  access: KrakenAccess,
  symbols: KrakenSymbols,
  txid: string
): Promise<BrokerOrder | undefined> => {
  try {
    return orderOf(symbols, await queryOrders(ctx, access, [txid]))
  } catch (error) {
    ctx.log.warn("kraken: the order was placed but could not be looked up", { txid, error: String(error) })
    return undefined
  }
}

/** What is known of an order Kraken accepted but that could not be looked up yet. */
const accepted = (order: OrderRequest, txid: string, now: number): BrokerOrder => ({
  ...order,
  orderId: txid,
  filledQuantity: 0,
  status: "pending",
  createdAt: now
})

/** Cancels an open order; an order already closed is returned as it stands. */
export const cancel = async (
  ctx: ProviderContext,
  access: KrakenAccess,
  symbols: KrakenSymbols,
  ref: OrderRef
): Promise<BrokerOrder> => {
  try {
    await cancelOrder(
      ctx,
      access,
      "orderId" in ref ? { txid: ref.orderId } : { cl_ord_id: ref.clientOrderId }
    )
  } catch (error) {
    if (reasonOf(error) !== "unknownOrder") throw error
  }
  const order = await findOrder(ctx, access, symbols, ref)
  if (order === undefined)
    throw new FatalError(`Kraken has no order ${"orderId" in ref ? ref.orderId : ref.clientOrderId}`, {
      reason: "unknownOrder"
    })
  return order
}
