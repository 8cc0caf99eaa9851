/**
 * The private endpoints the Kraken broker uses, typed: each posts through `privatePost` and
 * parses its result. A result that does not parse as a whole is retryable; an entry that does
 * not parse is logged and skipped.
 */
import { type ProviderContext, RetryableError } from "../../sdk"
import type { Parsed } from "../parse"
import { type KrakenAccess, privatePost } from "./client"
import {
  type KrakenOrder,
  type KrakenTrade,
  parseAddOrder,
  parseBalance,
  parseCancel,
  parseOrderList,
  parseOrderMap,
  parseTradesHistory
} from "./parse"

const must = <T>(method: string, parsed: Parsed<T>): T => {
  if (!parsed.ok) throw new RetryableError(`Kraken ${method}: malformed result (${parsed.error})`)
  return parsed.value
}

const entries = <T>(ctx: ProviderContext, method: string, rows: ReadonlyArray<Parsed<T>>): Array<T> => {
  const out: Array<T> = []
  for (const row of rows) {
    if (row.ok) out.push(row.value)
    else ctx.log.warn("kraken: skipping a malformed entry", { method, error: row.error })
  }
  return out
}

/** Cash balances by Kraken asset code, "net of pending withdrawals" (OpenAPI spec). */
export const balance = async (ctx: ProviderContext, access: KrakenAccess) =>
  must("Balance", parseBalance(await privatePost(ctx, access, "Balance")))

/** AddOrder's parameters, as the spec names them. */
export interface AddOrderParams {
  readonly pair: string
  readonly type: "buy" | "sell"
  readonly ordertype: "market" | "limit" | "stop-loss" | "stop-loss-limit"
  readonly volume: string
  readonly price?: string
  readonly price2?: string
  readonly cl_ord_id: string
  /** RFC 3339; past it the matching engine rejects the order instead of executing it late. */
  readonly deadline: string
}

export const addOrder = async (ctx: ProviderContext, access: KrakenAccess, params: AddOrderParams) =>
  must("AddOrder", parseAddOrder(await privatePost(ctx, access, "AddOrder", { ...params })))

/** CancelOrder by Kraken's txid or by client order id (spec: `txid` or `cl_ord_id`). */
export const cancelOrder = async (
  ctx: ProviderContext,
  access: KrakenAccess,
  ref: { readonly txid: string } | { readonly cl_ord_id: string }
) => must("CancelOrder", parseCancel(await privatePost(ctx, access, "CancelOrder", ref)))

const orderList =
  (method: "OpenOrders" | "ClosedOrders", key: "open" | "closed") =>
  async (ctx: ProviderContext, access: KrakenAccess, clOrdId?: string): Promise<Array<KrakenOrder>> => {
    const result = await privatePost(ctx, access, method, { cl_ord_id: clOrdId })
    return entries(ctx, method, must(method, parseOrderList(result, key)))
  }

/** Open orders, all or the one with a client order id. */
export const openOrders = orderList("OpenOrders", "open")

/**
 * Closed orders, all or those with a client order id: "50 results are returned at a time, the
 * most recent by default" (spec), which is all a lookup by client order id needs.
 */
export const closedOrders = orderList("ClosedOrders", "closed")

/** QueryOrders takes a "comma delimited list of up to 50 ids" (spec). */
export const queryOrders = async (
  ctx: ProviderContext,
  access: KrakenAccess,
  txids: ReadonlyArray<string>
): Promise<Array<KrakenOrder>> => {
  const out: Array<KrakenOrder> = []
  for (let i = 0; i < txids.length; i += 50) {
    const result = await privatePost(ctx, access, "QueryOrders", { txid: txids.slice(i, i + 50).join(",") })
    out.push(...entries(ctx, "QueryOrders", must("QueryOrders", parseOrderMap(result))))
  }
  return out
}

/**
 * Every trade after `startSeconds` (exclusive, spec), oldest first. Kraken answers "50 results
 * ... at a time, the most recent by default" with the total `count`; `ofs` pages through the rest.
 */
export const tradesSince = async (
  ctx: ProviderContext,
  access: KrakenAccess,
  startSeconds: number
): Promise<Array<KrakenTrade>> => {
  const seen = new Map<string, KrakenTrade>()
  for (let ofs = 0; ; ) {
    const result = await privatePost(ctx, access, "TradesHistory", {
      start: startSeconds,
      ofs: ofs || undefined
    })
    const page = must("TradesHistory", parseTradesHistory(result))
    for (const trade of entries(ctx, "TradesHistory", page.trades)) seen.set(trade.txid, trade)
    ofs += page.trades.length
    if (page.trades.length === 0 || ofs >= page.count) break
  }
  return [...seen.values()].sort((a, b) => a.time - b.time || a.txid.localeCompare(b.txid))
}
