/**
 * How the fake Kraken executes orders against its own market (`FakeMarket`, the random walk that
 * also serves OHLC): market orders fill at once at the market price; limit orders fill at once
 * when marketable, else rest until the price reaches them and fill at their limit; stop orders
 * trigger when the price reaches the stop from the unfavourable side, then fill like a market
 * order (`stop-loss`) or become a limit order (`stop-loss-limit`). Orders fill completely.
 * Fees are the pair's first tier (AssetPairs `fees` for takers, `fees_maker` for makers, in
 * percent), charged in the quote currency.
 */
import { barOpen, type FakeMarket } from "../market"
import type { FakePair } from "../pairs"
import { assetsOf, type FakeAccount, type FakeOrder, round10 } from "./account"

const MINUTE = 60_000
/** A clock that jumped far ahead is matched over its last week only. */
const MAX_SCAN_MS = 7 * 86_400_000

/** The market price of a pair at `t`: the close of its 1m bar as it stands at `t`. */
export const priceAt = (market: FakeMarket, pair: FakePair, t: number): number =>
  market.formingBar(pair, "1m", barOpen("1m", t), t).close

interface Touch {
  readonly time: number
  readonly low: number
  readonly high: number
}

/**
 * The first moment in (from, to] the price range meets `reached`: each whole 1m bar in between
 * by its low and high, then the price at `to`. Partial bars at the ends count only by their
 * price at the end: a bar's range before the order existed must not fill it.
 */
const firstTouch = (
  market: FakeMarket,
  pair: FakePair,
  from: number,
  to: number,
  reached: (low: number, high: number) => boolean
): Touch | undefined => {
  for (let ts = barOpen("1m", Math.max(from, to - MAX_SCAN_MS)) + MINUTE; ts + MINUTE <= to; ts += MINUTE) {
    const bar = market.closedBar(pair, "1m", ts)
    if (bar.trades !== 0 && reached(bar.low, bar.high)) return { time: ts, low: bar.low, high: bar.high }
  }
  const price = priceAt(market, pair, to)
  return to > from && reached(price, price) ? { time: to, low: price, high: price } : undefined
}

const fee = (pair: FakePair, maker: boolean): number => {
  const tiers = maker ? pair.row.fees_maker : pair.row.fees
  const first = Array.isArray(tiers) && Array.isArray(tiers[0]) ? Number(tiers[0][1]) : 0
  return Number.isFinite(first) ? first / 100 : 0
}

/** What a new order must hold: a sell its base volume, a buy its cost at its price plus the taker fee. */
export const holdFor = (
  pair: FakePair,
  order: Pick<FakeOrder, "side" | "ordertype" | "volume" | "price" | "price2">,
  marketPrice: number
): FakeOrder["held"] => {
  const { base, quote } = assetsOf(pair)
  if (order.side === "sell") return { asset: base, amount: order.volume }
  const price =
    order.ordertype === "limit"
      ? (order.price ?? marketPrice)
      : order.ordertype === "stop-loss-limit"
        ? (order.price2 ?? marketPrice)
        : Math.max(marketPrice, order.price ?? 0)
  return { asset: quote, amount: round10(order.volume * price * (1 + fee(pair, false))) }
}

export type NextId = (prefix: "O" | "T") => string

/** Executes the whole order at `price`; a buy that the balance no longer covers is cancelled. */
const fill = (
  account: FakeAccount,
  order: FakeOrder,
  price: number,
  time: number,
  maker: boolean,
  nextId: NextId
) => {
  const { base, quote } = assetsOf(order.pair)
  const cost = round10(order.volume * price)
  const charged = round10(cost * fee(order.pair, maker))
  const spendable = order.side === "buy" ? quote : base
  const need = order.side === "buy" ? cost + charged : order.volume
  if (account.available(spendable) + order.held.amount < need - 1e-9) {
    Object.assign(order, { status: "canceled", closetm: time, reason: "Insufficient funds" })
    return
  }
  if (order.side === "buy") {
    account.move(quote, -(cost + charged))
    account.move(base, order.volume)
  } else {
    account.move(base, -order.volume)
    account.move(quote, cost - charged)
  }
  const txid = nextId("T")
  account.trades.push({
    txid,
    ordertxid: order.txid,
    pair: order.pair,
    side: order.side,
    ordertype: order.ordertype,
    price,
    volume: order.volume,
    cost,
    fee: charged,
    time,
    maker,
    tradeId: account.trades.length + 1
  })
  order.trades.push(txid)
  Object.assign(order, { status: "closed", closetm: time, volExec: order.volume, cost, fee: charged })
  order.held = { asset: order.held.asset, amount: 0 }
}

const rises = (side: "buy" | "sell") => side === "buy"

/** Matches one open order over (from, to]. */
const sweepOrder = (
  market: FakeMarket,
  account: FakeAccount,
  order: FakeOrder,
  from: number,
  to: number,
  nextId: NextId
) => {
  let since = from
  if (order.ordertype !== "limit" && !order.triggered) {
    const stop = order.price ?? 0
    const hit = firstTouch(market, order.pair, from, to, (low, high) =>
      rises(order.side) ? high >= stop : low <= stop
    )
    if (hit === undefined) return
    order.triggered = true
    // Reached inside a bar, the stop's own price; at the end of the window, the price then.
    const price = hit.low === hit.high ? hit.low : stop
    const limit = order.price2 ?? price
    if (order.ordertype === "stop-loss" || (rises(order.side) ? limit >= price : limit <= price))
      return fill(account, order, price, hit.time, false, nextId)
    since = hit.time
  }
  const limit = order.ordertype === "limit" ? (order.price ?? 0) : (order.price2 ?? 0)
  const hit = firstTouch(market, order.pair, since, to, (low, high) =>
    rises(order.side) ? low <= limit : high >= limit
  )
  if (hit !== undefined) fill(account, order, limit, hit.time, true, nextId)
}

/** Brings every open order of the account up to `now`. */
export const sweep = (market: FakeMarket, account: FakeAccount, now: number, nextId: NextId): void => {
  for (const order of account.openOrders())
    sweepOrder(market, account, order, Math.max(order.opentm, account.sweptAt), now, nextId)
  account.sweptAt = Math.max(account.sweptAt, now)
}

/** A new order at `now`: it executes at once when it can, else it rests (open). */
export const execute = (
  market: FakeMarket,
  account: FakeAccount,
  order: FakeOrder,
  now: number,
  nextId: NextId
): void => {
  const price = priceAt(market, order.pair, now)
  const buy = rises(order.side)
  // The limit of a limit order, the trigger of a stop order.
  const level = order.price ?? 0
  switch (order.ordertype) {
    case "market":
      fill(account, order, price, now, false, nextId)
      return
    case "limit":
      if (buy ? price <= level : price >= level) fill(account, order, price, now, false, nextId)
      return
    case "stop-loss":
    case "stop-loss-limit": {
      if (!(buy ? price >= level : price <= level)) return
      order.triggered = true
      const limit = order.price2 ?? price
      if (order.ordertype === "stop-loss" || (buy ? limit >= price : limit <= price))
        fill(account, order, price, now, false, nextId)
    }
  }
}
