/**
 * Between the broker contract's shapes and Kraken's: order requests to AddOrder parameters,
 * Kraken's orders and trades to `BrokerOrder` and `Fill`. Pure functions.
 */
import type { BrokerOrder, Fill, OrderRequest, OrderStatus } from "../../sdk"
import type { KrakenPair } from "../parse"
import { canonicalAsset, type KrakenSymbols, providerSymbol } from "../symbols"
import type { AddOrderParams } from "./api"
import type { KrakenOrder, KrakenTrade } from "./parse"

/**
 * AddOrder's `cl_ord_id` "can be one of the following formats: Long UUID ... 32 hex characters
 * separated with 4 dashes; Short UUID ... 32 hex characters with no dashes; Free text ... Free
 * format ascii text up to 18 characters" (spot REST spec, AddOrder).
 */
const CL_ORD_ID =
  /^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{32}|[\x20-\x7e]{1,18})$/

export const isKrakenClientOrderId = (id: string): boolean => CL_ORD_ID.test(id)

/**
 * A number as a plain decimal string for the wire: JavaScript's shortest round-trip form, never
 * exponent notation. Nothing is rounded: a price or volume finer than the pair allows is for
 * Kraken to refuse, not for the broker to change.
 */
export const decimalString = (n: number): string => {
  const shortest = String(n)
  const [mantissa = "", exponent] = shortest.split("e")
  if (exponent === undefined) return shortest
  // Shift the decimal point of the shortest digits instead of printing more (noisy) digits.
  const sign = mantissa.startsWith("-") ? "-" : ""
  const [whole = "", fraction = ""] = mantissa.replace("-", "").split(".")
  const digits = whole + fraction
  const point = whole.length + Number(exponent)
  if (point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`
  if (point >= digits.length) return `${sign}${digits}${"0".repeat(point - digits.length)}`
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`
}

/** RFC 3339 in UTC with milliseconds, as AddOrder's `deadline` takes it (e.g. 2021-04-01T00:18:45Z). */
export const rfc3339 = (ms: number): string => new Date(ms).toISOString()

export const toAddOrder = (order: OrderRequest, pair: KrakenPair, deadline: string): AddOrderParams => {
  const common = {
    pair: pair.altname,
    type: order.side,
    volume: decimalString(order.quantity),
    cl_ord_id: order.clientOrderId,
    deadline
  }
  const price = (n: number | undefined) => (n === undefined ? undefined : decimalString(n))
  switch (order.type) {
    case "market":
      return { ...common, ordertype: "market" }
    case "limit":
      return { ...common, ordertype: "limit", price: price(order.limitPrice) }
    case "stop":
      // `price` is the trigger of stop orders, `price2` the limit of stop-loss-limit (spec).
      return order.limitPrice === undefined
        ? { ...common, ordertype: "stop-loss", price: price(order.stopPrice) }
        : {
            ...common,
            ordertype: "stop-loss-limit",
            price: price(order.stopPrice),
            price2: price(order.limitPrice)
          }
  }
}

/** Kraken's `closed` means done; it is `filled` only when the whole volume executed. */
const statusOf = (order: KrakenOrder): OrderStatus => {
  switch (order.status) {
    case "closed":
      return order.volumeExecuted >= order.volume ? "filled" : "canceled"
    default:
      return order.status
  }
}

/** The symbol of a pair named any way Kraken names it, or the name itself when unlisted. */
const symbolOf = (symbols: KrakenSymbols, name: string): string => {
  const pair = symbols.resolve(name)
  return pair === undefined ? name : providerSymbol(pair)
}

const seconds = (s: number): number => Math.round(s * 1_000)

/**
 * A Kraken order as a `BrokerOrder`, or undefined for order types the contract does not have
 * (take-profit, trailing stops, ... placed outside Quasar). Icebergs are limit orders.
 */
export const toBrokerOrder = (order: KrakenOrder, symbols: KrakenSymbols): BrokerOrder | undefined => {
  const prices = (() => {
    switch (order.ordertype) {
      case "market":
        return { type: "market" as const }
      case "limit":
      case "iceberg":
        return { type: "limit" as const, limitPrice: order.price }
      case "stop-loss":
        return { type: "stop" as const, stopPrice: order.price }
      case "stop-loss-limit":
        return { type: "stop" as const, stopPrice: order.price, limitPrice: order.price2 }
      default:
        return undefined
    }
  })()
  if (prices === undefined) return undefined
  return {
    orderId: order.txid,
    clientOrderId: order.clOrdId,
    symbol: symbolOf(symbols, order.pair),
    side: order.side,
    ...prices,
    quantity: order.volume,
    filledQuantity: order.volumeExecuted,
    ...(order.averagePrice === undefined ? {} : { averagePrice: order.averagePrice }),
    fee: order.fee,
    status: statusOf(order),
    createdAt: seconds(order.opentm),
    ...(order.closetm === undefined ? {} : { closedAt: seconds(order.closetm) }),
    ...(order.reason === undefined ? {} : { reason: order.reason })
  }
}

export const toFill = (
  trade: KrakenTrade,
  symbols: KrakenSymbols,
  clientOrderId: string | undefined
): Fill => ({
  id: trade.txid,
  orderId: trade.ordertxid,
  clientOrderId,
  symbol: symbolOf(symbols, trade.pair),
  side: trade.side,
  quantity: trade.volume,
  price: trade.price,
  fee: trade.fee,
  ts: seconds(trade.time),
  ...(trade.maker === undefined ? {} : { liquidity: trade.maker ? ("maker" as const) : ("taker" as const) })
})

/**
 * Balance codes that are not tradable cash: staking and earn balances (`.S`, `.M`, `.B`, `.F`)
 * are "read-only" (Balance in the spot REST spec).
 */
const READ_ONLY = /\.(S|M|B|F)$/

/**
 * Spot positions: every tradable non-cash asset held, named by its pair against `cash`
 * (`XBT/USD` for XXBT held in a USD account), or `BASE/CASH` when Kraken lists no such pair.
 */
export const toPositions = (
  rows: ReadonlyArray<{ readonly code: string; readonly amount: number }>,
  symbols: KrakenSymbols,
  cash: string
): Array<{ readonly symbol: string; readonly quantity: number }> =>
  rows
    .filter((row) => row.amount !== 0 && !READ_ONLY.test(row.code) && canonicalAsset(row.code) !== cash)
    .map((row) => {
      const asset = canonicalAsset(row.code)
      const pair = symbols.pairs.find(
        (p) => canonicalAsset(p.base) === asset && canonicalAsset(p.quote) === cash
      )
      return { symbol: pair === undefined ? `${asset}/${cash}` : providerSymbol(pair), quantity: row.amount }
    })
