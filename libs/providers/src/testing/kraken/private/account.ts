/**
 * One account of the fake Kraken: balances by Kraken asset code (`ZUSD`, `XXBT`), orders and
 * trades. Open orders hold (reserve) what they may spend: a buy its quote currency with the fee,
 * a sell its base asset; `available` is what is left. An account may have several API keys, each
 * with its own secret and nonce ("Each API key has its own separate nonce value",
 * support.kraken.com "Why am I getting invalid nonce errors?").
 */
import type { FakePair } from "../pairs"

export type FakeOrderType = "market" | "limit" | "stop-loss" | "stop-loss-limit"
export type FakeOrderStatus = "open" | "closed" | "canceled" | "expired"

export interface FakeOrder {
  readonly txid: string
  readonly clOrdId: string | undefined
  readonly pair: FakePair
  readonly side: "buy" | "sell"
  readonly ordertype: FakeOrderType
  readonly volume: number
  /** Limit price (`limit`) or trigger price (stop orders). */
  readonly price: number | undefined
  /** Limit price of `stop-loss-limit`. */
  readonly price2: number | undefined
  readonly opentm: number
  status: FakeOrderStatus
  /** A stop order whose trigger was reached. */
  triggered: boolean
  closetm: number | undefined
  reason: string | undefined
  volExec: number
  cost: number
  fee: number
  /** What the order holds while open: asset code and amount. */
  held: { readonly asset: string; readonly amount: number }
  readonly trades: Array<string>
}

export interface FakeTrade {
  readonly txid: string
  readonly ordertxid: string
  readonly pair: FakePair
  readonly side: "buy" | "sell"
  readonly ordertype: FakeOrderType
  readonly price: number
  readonly volume: number
  readonly cost: number
  readonly fee: number
  readonly time: number
  readonly maker: boolean
  readonly tradeId: number
}

/** Kraken's asset codes of a pair (`XXBT`, `ZUSD`), from its AssetPairs row. */
export const assetsOf = (pair: FakePair): { readonly base: string; readonly quote: string } => ({
  base: String(pair.row.base),
  quote: String(pair.row.quote)
})

/** Amounts are kept to 10 decimals, as Kraken prints crypto balances: no float dust. */
export const round10 = (x: number): number => Math.round(x * 1e10) / 1e10

export interface FakeApiKey {
  readonly secret: string
  /** The last accepted nonce: Kraken nonces are unsigned 64-bit, beyond a double's integers. */
  lastNonce: bigint
  readonly account: FakeAccount
}

export class FakeAccount {
  /** Up to when open orders were matched against the market. */
  sweptAt = 0
  readonly balances = new Map<string, number>()
  readonly orders = new Map<string, FakeOrder>()
  readonly trades: Array<FakeTrade> = []

  constructor(balances: Readonly<Record<string, number>>) {
    for (const [code, amount] of Object.entries(balances)) this.balances.set(code, amount)
  }

  balance(asset: string): number {
    return this.balances.get(asset) ?? 0
  }

  /** What open orders hold of `asset`. */
  held(asset: string): number {
    let sum = 0
    for (const order of this.orders.values())
      if (order.status === "open" && order.held.asset === asset) sum += order.held.amount
    return round10(sum)
  }

  available(asset: string): number {
    return round10(this.balance(asset) - this.held(asset))
  }

  move(asset: string, delta: number): void {
    this.balances.set(asset, round10(this.balance(asset) + delta))
  }

  openOrders(): Array<FakeOrder> {
    return [...this.orders.values()].filter((o) => o.status === "open")
  }

  /** The open order with this client order id: Kraken keeps those unique among open orders. */
  openWithClientId(clOrdId: string): FakeOrder | undefined {
    return this.openOrders().find((o) => o.clOrdId === clOrdId)
  }
}
