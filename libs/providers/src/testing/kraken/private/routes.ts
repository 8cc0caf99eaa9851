/**
 * The fake's private endpoints, each a function of the account and the request's parameters to
 * Kraken's `{error, result}` body. Parameters and answers follow the spot REST spec
 * (github.com/krakenfx/api-specs `spot-rest/openapi_v3.yaml`); the error strings are those of
 * docs.kraken.com/api/docs/guides/spot-errors.
 */
import type { FakeMarket } from "../market"
import type { FakePairs } from "../pairs"
import { type FakeAccount, type FakeOrder, type FakeOrderType, round10 } from "./account"
import { execute, holdFor, type NextId, priceAt } from "./matching"
import { balanceInfo, describeOrder, orderInfo, tradeInfo } from "./wire"

export type Body = { readonly error: ReadonlyArray<string>; readonly result?: unknown }

export interface Venue {
  readonly market: FakeMarket
  readonly pairs: FakePairs
  readonly now: () => number
  readonly nextId: NextId
}

const failure = (error: string): Body => ({ error: [error] })
const success = (result: unknown): Body => ({ error: [], result })

const INVALID = "EGeneral:Invalid arguments"
const ORDER_TYPES: ReadonlyArray<string> = ["market", "limit", "stop-loss", "stop-loss-limit"]
/** AddOrder's `cl_ord_id` formats: long UUID, short UUID, or up to 18 ASCII characters (spec). */
const CL_ORD_ID =
  /^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32}|[\x20-\x7e]{1,18})$/
/** Results per page of ClosedOrders and TradesHistory: "50 results are returned at a time" (spec). */
const PAGE = 50

const positive = (raw: string | null): number | undefined => {
  if (raw === null || !/^\d+(\.\d+)?$/.test(raw)) return undefined
  const n = Number(raw)
  return n > 0 ? n : undefined
}

const decimalsOf = (raw: string): number => raw.split(".")[1]?.length ?? 0

const isMultiple = (x: number, step: number): boolean => Math.abs(x / step - Math.round(x / step)) < 1e-6

export const balance = (account: FakeAccount): Body => success(balanceInfo(account))

export const addOrder = (venue: Venue, account: FakeAccount, p: URLSearchParams): Body => {
  const pair = venue.pairs.rest(p.get("pair") ?? "")
  if (pair === undefined) return failure("EQuery:Unknown asset pair")
  const side = p.get("type")
  const ordertype = p.get("ordertype") ?? ""
  const volumeRaw = p.get("volume") ?? ""
  const volume = positive(volumeRaw)
  const price = positive(p.get("price"))
  const price2 = positive(p.get("price2"))
  const clOrdId = p.get("cl_ord_id") ?? undefined
  if (side !== "buy" && side !== "sell") return failure(INVALID)
  if (!ORDER_TYPES.includes(ordertype) || volume === undefined) return failure(INVALID)
  if (decimalsOf(volumeRaw) > Number(pair.row.lot_decimals)) return failure(INVALID)
  if (ordertype !== "market" && price === undefined) return failure(INVALID)
  if (ordertype === "stop-loss-limit" && price2 === undefined) return failure(INVALID)
  // "cl_ord_id ... is mutually exclusive with userref" (spec).
  if (clOrdId !== undefined && (p.has("userref") || !CL_ORD_ID.test(clOrdId))) return failure(INVALID)
  const tick = Number(pair.row.tick_size)
  if ([price, price2].some((x) => x !== undefined && !isMultiple(x, tick)))
    return failure("EOrder:Tick size check failed")
  if (volume < Number(pair.row.ordermin)) return failure("EOrder:Order minimum not met")
  const now = venue.now()
  const deadline = p.get("deadline")
  if (deadline !== null) {
    const at = Date.parse(deadline)
    if (Number.isNaN(at)) return failure(INVALID)
    // Past the deadline "the matching engine should reject the new order request" (spec).
    if (now > at) return failure("EService:Deadline elapsed")
  }
  // Kraken "verifies cl_ord_id uniqueness across open orders for each client"
  // (docs.kraken.com/api/docs/guides/spot-clordid); the error string is not documented.
  if (clOrdId !== undefined && account.openWithClientId(clOrdId) !== undefined)
    return failure("EOrder:Duplicate order")
  const draft = { pair, side, ordertype: ordertype as FakeOrderType, volume, price, price2 } as const
  const held = holdFor(pair, draft, priceAt(venue.market, pair, now))
  if (account.available(held.asset) < held.amount) return failure("EOrder:Insufficient funds")
  const descr = { order: describeOrder(draft) }
  // `validate`: "the order will be validated only, it will not trade" (spec); no txid.
  if (p.get("validate") === "true") return success({ descr })
  const order: FakeOrder = {
    ...draft,
    txid: venue.nextId("O"),
    clOrdId,
    opentm: now,
    status: "open",
    triggered: false,
    closetm: undefined,
    reason: undefined,
    volExec: 0,
    cost: 0,
    fee: 0,
    held,
    trades: []
  }
  account.orders.set(order.txid, order)
  execute(venue.market, account, order, now, venue.nextId)
  return success({ descr, txid: [order.txid] })
}

/** CancelOrder by `txid` or `cl_ord_id`; only open orders can be cancelled. */
export const cancelOrder = (venue: Venue, account: FakeAccount, p: URLSearchParams): Body => {
  const txid = p.get("txid")
  const clOrdId = p.get("cl_ord_id")
  const order =
    txid !== null
      ? account.orders.get(txid)
      : clOrdId !== null
        ? account.openWithClientId(clOrdId)
        : undefined
  if (txid === null && clOrdId === null) return failure(INVALID)
  if (order === undefined || order.status !== "open") return failure("EOrder:Unknown order")
  Object.assign(order, { status: "canceled", closetm: venue.now(), reason: "User requested" })
  order.held = { asset: order.held.asset, amount: 0 }
  return success({ count: 1 })
}

const orderMap = (orders: ReadonlyArray<FakeOrder>, withTrades: boolean) =>
  Object.fromEntries(orders.map((o) => [o.txid, orderInfo(o, withTrades)]))

export const openOrders = (account: FakeAccount, p: URLSearchParams): Body => {
  const clOrdId = p.get("cl_ord_id")
  const orders = account.openOrders().filter((o) => clOrdId === null || o.clOrdId === clOrdId)
  return success({ open: orderMap(orders, p.get("trades") === "true") })
}

/** Closed orders, newest first, 50 a page from `ofs`. */
export const closedOrders = (account: FakeAccount, p: URLSearchParams): Body => {
  const clOrdId = p.get("cl_ord_id")
  const all = [...account.orders.values()]
    .filter((o) => o.status !== "open" && (clOrdId === null || o.clOrdId === clOrdId))
    .sort((a, b) => (b.closetm ?? 0) - (a.closetm ?? 0))
  const ofs = Number(p.get("ofs") ?? 0) || 0
  return success({
    closed: orderMap(all.slice(ofs, ofs + PAGE), p.get("trades") === "true"),
    count: all.length
  })
}

/** QueryOrders: `txid` is required; ids the account does not have are left out. */
export const queryOrders = (account: FakeAccount, p: URLSearchParams): Body => {
  const ids = (p.get("txid") ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
  if (ids.length === 0 || ids.length > 50) return failure(INVALID)
  const orders = ids.flatMap((id) => account.orders.get(id) ?? [])
  return success(orderMap(orders, p.get("trades") === "true"))
}

/** Trades after `start` (exclusive, unix seconds) up to `end` (inclusive), newest first, 50 a page. */
export const tradesHistory = (account: FakeAccount, p: URLSearchParams): Body => {
  const start = Number(p.get("start") ?? 0) * 1_000
  const end = p.has("end") ? Number(p.get("end")) * 1_000 : Number.POSITIVE_INFINITY
  if (!Number.isFinite(start) || Number.isNaN(end)) return failure(INVALID)
  const all = account.trades.filter((t) => t.time > start && t.time <= end).sort((a, b) => b.time - a.time)
  const ofs = Number(p.get("ofs") ?? 0) || 0
  const trades = Object.fromEntries(all.slice(ofs, ofs + PAGE).map((t) => [t.txid, tradeInfo(t)]))
  return success({ trades, count: all.length })
}

/** Used by tests to check amounts: an account's balances as numbers. */
export const balancesOf = (account: FakeAccount): Record<string, number> =>
  Object.fromEntries([...account.balances].map(([code, x]) => [code, round10(x)]))
