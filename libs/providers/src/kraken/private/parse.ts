/**
 * Pure parsers for Kraken's private REST results, shapes from the spot REST OpenAPI spec
 * (github.com/krakenfx/api-specs `spot-rest/openapi_v3.yaml` and its examples). Like the public
 * parsers they never throw, and collections parse entry by entry so one bad entry costs one entry.
 * Decimals arrive as strings ("30010.0"); JSON numbers are accepted too.
 */
import { decimal, fail, isRecord, ok, type Parsed, text } from "../parse"

export type KrakenOrderStatus = "pending" | "open" | "closed" | "canceled" | "expired"

const STATUSES: ReadonlyArray<string> = ["pending", "open", "closed", "canceled", "expired"]

/** An order as OpenOrders, ClosedOrders and QueryOrders describe it. */
export interface KrakenOrder {
  readonly txid: string
  readonly clOrdId: string | undefined
  readonly status: KrakenOrderStatus
  /** `descr.pair`: the pair's altname (`XBTUSD`). */
  readonly pair: string
  readonly side: "buy" | "sell"
  /** `descr.ordertype`: `market`, `limit`, `stop-loss`, `stop-loss-limit`, ... */
  readonly ordertype: string
  /** `descr.price`: the limit price, or the trigger price of stop orders; absent when "0". */
  readonly price: number | undefined
  /** `descr.price2`: the limit price of `stop-loss-limit` orders; absent when "0". */
  readonly price2: number | undefined
  readonly volume: number
  readonly volumeExecuted: number
  /** Quote currency spent or received so far. */
  readonly cost: number
  readonly fee: number
  /** `price`: the average execution price, absent while nothing executed ("0.00000"). */
  readonly averagePrice: number | undefined
  /** Unix seconds with fractions, as Kraken sends them. */
  readonly opentm: number
  readonly closetm: number | undefined
  readonly reason: string | undefined
}

const nonZero = (u: unknown): number | undefined => {
  const n = decimal(u)
  return n === undefined || n === 0 ? undefined : n
}

export const parseOrder = (txid: string, entry: unknown): Parsed<KrakenOrder> => {
  if (!isRecord(entry) || !isRecord(entry.descr)) return fail(`order ${txid}: no descr object`)
  const { descr } = entry
  const status = text(entry.status)
  const side = text(descr.type)
  const pair = text(descr.pair)
  const ordertype = text(descr.ordertype)
  const volume = decimal(entry.vol)
  const volumeExecuted = decimal(entry.vol_exec)
  const opentm = decimal(entry.opentm)
  if (status === undefined || !STATUSES.includes(status))
    return fail(`order ${txid}: unknown status ${status}`)
  if (side !== "buy" && side !== "sell") return fail(`order ${txid}: descr.type is ${side}`)
  if (!pair || !ordertype) return fail(`order ${txid}: no descr.pair or descr.ordertype`)
  if (volume === undefined || volumeExecuted === undefined || opentm === undefined)
    return fail(`order ${txid}: bad vol, vol_exec or opentm`)
  return ok({
    txid,
    clOrdId: text(entry.cl_ord_id) || undefined,
    status: status as KrakenOrderStatus,
    pair,
    side,
    ordertype,
    price: nonZero(descr.price),
    price2: nonZero(descr.price2),
    volume,
    volumeExecuted,
    cost: decimal(entry.cost) ?? 0,
    fee: decimal(entry.fee) ?? 0,
    averagePrice: nonZero(entry.price),
    opentm,
    closetm: decimal(entry.closetm),
    reason: text(entry.reason) ?? undefined
  })
}

/** A `{txid: order}` map: QueryOrders' result, or OpenOrders' `open` / ClosedOrders' `closed`. */
export const parseOrderMap = (map: unknown): Parsed<ReadonlyArray<Parsed<KrakenOrder>>> =>
  isRecord(map)
    ? ok(Object.entries(map).map(([txid, entry]) => parseOrder(txid, entry)))
    : fail("orders are not an object")

/** OpenOrders (`{open: {...}}`) or ClosedOrders (`{closed: {...}, count}`). */
export const parseOrderList = (
  result: unknown,
  key: "open" | "closed"
): Parsed<ReadonlyArray<Parsed<KrakenOrder>>> =>
  isRecord(result) ? parseOrderMap(result[key]) : fail(`result has no ${key} orders`)

/** One TradesHistory entry: a fill of one order. */
export interface KrakenTrade {
  readonly txid: string
  readonly ordertxid: string
  /** The pair's REST key (`XXBTZUSD`). */
  readonly pair: string
  readonly side: "buy" | "sell"
  readonly price: number
  readonly volume: number
  readonly cost: number
  readonly fee: number
  /** Unix seconds with fractions. */
  readonly time: number
  readonly maker: boolean | undefined
}

export const parseTrade = (txid: string, entry: unknown): Parsed<KrakenTrade> => {
  if (!isRecord(entry)) return fail(`trade ${txid}: not an object`)
  const ordertxid = text(entry.ordertxid)
  const pair = text(entry.pair)
  const side = text(entry.type)
  const price = decimal(entry.price)
  const volume = decimal(entry.vol)
  const time = decimal(entry.time)
  if (!ordertxid || !pair) return fail(`trade ${txid}: no ordertxid or pair`)
  if (side !== "buy" && side !== "sell") return fail(`trade ${txid}: type is ${side}`)
  if (price === undefined || volume === undefined || time === undefined)
    return fail(`trade ${txid}: bad price, vol or time`)
  return ok({
    txid,
    ordertxid,
    pair,
    side,
    price,
    volume,
    cost: decimal(entry.cost) ?? price * volume,
    fee: decimal(entry.fee) ?? 0,
    time,
    maker: typeof entry.maker === "boolean" ? entry.maker : undefined
  })
}

export interface TradesPage {
  /** Newest first, as Kraken sends them. */
  readonly trades: ReadonlyArray<Parsed<KrakenTrade>>
  /** How many trades match in all ("Amount of available trades matching criteria"). */
  readonly count: number
}

export const parseTradesHistory = (result: unknown): Parsed<TradesPage> => {
  if (!isRecord(result) || !isRecord(result.trades)) return fail("TradesHistory result has no trades object")
  const trades = Object.entries(result.trades).map(([txid, entry]) => parseTrade(txid, entry))
  return ok({ trades, count: decimal(result.count) ?? trades.length })
}

/** Balance: `{"ZUSD": "171288.6158", "XXBT": "1011.1908877900", ...}`, by Kraken asset code. */
export const parseBalance = (
  result: unknown
): Parsed<ReadonlyArray<{ readonly code: string; readonly amount: number }>> => {
  if (!isRecord(result)) return fail("Balance result is not an object")
  const rows: Array<{ readonly code: string; readonly amount: number }> = []
  for (const [code, raw] of Object.entries(result)) {
    const amount = decimal(raw)
    if (amount === undefined) return fail(`Balance of ${code} is ${JSON.stringify(raw)}`)
    rows.push({ code, amount })
  }
  return ok(rows)
}

/** AddOrder: `{"descr": {"order": "buy 1.25 XBTUSD @ limit 27500"}, "txid": ["OUF4EM-FRGI2-MQMWZD"]}`. */
export const parseAddOrder = (
  result: unknown
): Parsed<{ readonly txid: string; readonly description: string }> => {
  if (!isRecord(result) || !Array.isArray(result.txid)) return fail("AddOrder result has no txid list")
  const txid = text(result.txid[0])
  if (!txid) return fail("AddOrder result has an empty txid list")
  const description = isRecord(result.descr) ? (text(result.descr.order) ?? "") : ""
  return ok({ txid, description })
}

/** CancelOrder: `{"count": 1}`, with `pending: true` when the cancel is still under way. */
export const parseCancel = (
  result: unknown
): Parsed<{ readonly count: number; readonly pending: boolean }> => {
  if (!isRecord(result)) return fail("CancelOrder result is not an object")
  const count = decimal(result.count)
  if (count === undefined) return fail("CancelOrder result has no count")
  return ok({ count, pending: result.pending === true })
}
