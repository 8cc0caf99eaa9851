/**
 * The fake's orders, trades and balances in Kraken's JSON shapes (spot REST spec examples):
 * decimals as strings at the pair's precision (`pair_decimals` for prices, `lot_decimals` for
 * volumes, `cost_decimals` for cost and fee), times as unix seconds with fractions, `descr.pair`
 * the altname and a trade's `pair` the REST key.
 */
import type { FakePair } from "../pairs"
import type { FakeAccount, FakeOrder, FakeTrade } from "./account"

const digits = (pair: FakePair, field: "pair_decimals" | "lot_decimals" | "cost_decimals"): number => {
  const n = Number(pair.row[field])
  return Number.isInteger(n) ? n : 8
}

const price = (pair: FakePair, x: number | undefined) => (x ?? 0).toFixed(digits(pair, "pair_decimals"))
const volume = (pair: FakePair, x: number) => x.toFixed(digits(pair, "lot_decimals"))
const cost = (pair: FakePair, x: number) => x.toFixed(digits(pair, "cost_decimals"))
const seconds = (ms: number) => ms / 1_000

/** "buy 1.25000000 XBTUSD @ limit 27500.0", as `descr.order` reads. */
export const describeOrder = (
  order: Pick<FakeOrder, "pair" | "side" | "ordertype" | "volume" | "price" | "price2">
) => {
  const altname = String(order.pair.row.altname)
  const head = `${order.side} ${volume(order.pair, order.volume)} ${altname} @ `
  switch (order.ordertype) {
    case "market":
      return `${head}market`
    case "limit":
      return `${head}limit ${price(order.pair, order.price)}`
    case "stop-loss":
      return `${head}stop loss ${price(order.pair, order.price)}`
    case "stop-loss-limit":
      return `${head}stop loss ${price(order.pair, order.price)} -> limit ${price(order.pair, order.price2)}`
  }
}

export const orderInfo = (order: FakeOrder, withTrades: boolean): Record<string, unknown> => {
  const { pair } = order
  return {
    refid: null,
    userref: 0,
    ...(order.clOrdId === undefined ? {} : { cl_ord_id: order.clOrdId }),
    status: order.status,
    ...(order.reason === undefined ? {} : { reason: order.reason }),
    opentm: seconds(order.opentm),
    ...(order.closetm === undefined ? {} : { closetm: seconds(order.closetm) }),
    starttm: 0,
    expiretm: 0,
    descr: {
      pair: String(pair.row.altname),
      type: order.side,
      ordertype: order.ordertype,
      price: order.price === undefined ? "0" : price(pair, order.price),
      price2: order.price2 === undefined ? "0" : price(pair, order.price2),
      leverage: "none",
      order: describeOrder(order),
      close: ""
    },
    vol: volume(pair, order.volume),
    vol_exec: volume(pair, order.volExec),
    cost: cost(pair, order.cost),
    fee: cost(pair, order.fee),
    price: order.volExec > 0 ? price(pair, order.cost / order.volExec) : price(pair, 0),
    stopprice: "0.00000",
    limitprice: "0.00000",
    misc: "",
    oflags: "fciq",
    ...(withTrades && order.trades.length > 0 ? { trades: [...order.trades] } : {})
  }
}

export const tradeInfo = (trade: FakeTrade): Record<string, unknown> => ({
  ordertxid: trade.ordertxid,
  postxid: "TKH2SE-M7IF5-CFI7LT",
  pair: trade.pair.key,
  time: seconds(trade.time),
  type: trade.side,
  ordertype: trade.ordertype,
  price: price(trade.pair, trade.price),
  cost: cost(trade.pair, trade.cost),
  fee: cost(trade.pair, trade.fee),
  vol: volume(trade.pair, trade.volume),
  margin: "0.00000",
  misc: "",
  trade_id: trade.tradeId,
  maker: trade.maker
})

/** Fiat balances with 4 decimals, crypto with 10, as in the spec's Balance example. */
const FIAT = new Set(["ZUSD", "ZEUR", "ZGBP", "ZCAD", "ZJPY", "ZAUD", "ZCHF"])

export const balanceInfo = (account: FakeAccount): Record<string, string> =>
  Object.fromEntries([...account.balances].map(([code, x]) => [code, x.toFixed(FIAT.has(code) ? 4 : 10)]))
