/**
 * Positions as an account keeps them, moved by fills: the paper account when it fills an order,
 * a broker account when the broker reports a fill, and a restored deployment replaying its fills.
 */
import type { BrokerOrder, Fill, OrderRequest } from "@quasar/providers/sdk"

export interface Holding {
  readonly quantity: number
  readonly averagePrice: number
}

/** Quantities within this relative distance of the position count as all of it (float rounding). */
export const EPSILON = 1e-9

/** Moves `symbol`'s position in `holdings` by a fill: a buy averages its price in; a sell of all of it closes the position. */
export const moveHolding = (
  holdings: Map<string, Holding>,
  symbol: string,
  side: Fill["side"],
  quantity: number,
  price: number
): void => {
  const held = holdings.get(symbol) ?? { quantity: 0, averagePrice: 0 }
  if (side === "buy") {
    const total = held.quantity + quantity
    holdings.set(symbol, {
      quantity: total,
      averagePrice: (held.averagePrice * held.quantity + price * quantity) / total
    })
  } else {
    const left = held.quantity - quantity <= held.quantity * EPSILON ? 0 : held.quantity - quantity
    if (left === 0) holdings.delete(symbol)
    else holdings.set(symbol, { quantity: left, averagePrice: held.averagePrice })
  }
}

/** A new order as the account records `request`, nothing of it filled yet. */
export const orderOf = (
  request: OrderRequest,
  orderId: string,
  status: BrokerOrder["status"],
  at: number
): BrokerOrder => ({
  orderId,
  clientOrderId: request.clientOrderId,
  symbol: request.symbol,
  side: request.side,
  type: request.type,
  quantity: request.quantity,
  filledQuantity: 0,
  ...(request.limitPrice !== undefined && { limitPrice: request.limitPrice }),
  ...(request.stopPrice !== undefined && { stopPrice: request.stopPrice }),
  status,
  createdAt: at
})
