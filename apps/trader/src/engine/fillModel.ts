/**
 * The fill model, one pure function per decision (documented in the README's "Fill model"):
 * - a market order fills at the open of the first bar after the one it was placed in;
 * - a limit order fills once a later bar trades at or through its price: at the open when the bar
 *   opens through it (a buy limit above the open, a sell limit below), else at the limit price;
 * - a stop order triggers once a later bar trades at or through its stop price (a buy stop at or
 *   above it, a sell stop at or below it): at the open when the bar gaps through, else at the stop;
 * - market and stop fills pay slippage (a buy's price rises, a sell's falls), limit fills do not;
 * - every fill pays the fee on its notional; there are no partial fills.
 */
import type { OrderSide, OrderType } from "@quasar/providers/sdk"

export interface PriceBar {
  readonly open: number
  readonly high: number
  readonly low: number
}

export interface PricedOrder {
  readonly side: OrderSide
  readonly type: OrderType
  readonly limitPrice?: number
  readonly stopPrice?: number
}

const BPS = 10_000

/** The price the order fills at in this bar, slippage included, or undefined if it does not fill. */
export const fillPrice = (order: PricedOrder, bar: PriceBar, slippageBps: number): number | undefined => {
  const buy = order.side === "buy"
  const slipped = (price: number) => price * (buy ? 1 + slippageBps / BPS : 1 - slippageBps / BPS)
  switch (order.type) {
    case "market":
      return slipped(bar.open)
    case "limit": {
      const limit = order.limitPrice!
      if (buy) return bar.open <= limit ? bar.open : bar.low <= limit ? limit : undefined
      return bar.open >= limit ? bar.open : bar.high >= limit ? limit : undefined
    }
    case "stop": {
      const stop = order.stopPrice!
      if (buy) return bar.open >= stop ? slipped(bar.open) : bar.high >= stop ? slipped(stop) : undefined
      return bar.open <= stop ? slipped(bar.open) : bar.low <= stop ? slipped(stop) : undefined
    }
  }
}

/**
 * Why nothing fills at `price`, or undefined when it can. Stored bars may be priced at 0 or below
 * (a worthless or negative-priced contract); a unit count or a cost at such a price is no number
 * a result or an account can hold. The backtest's Ledger and the paper account both ask this.
 */
export const unfillablePrice = (price: number): string | undefined =>
  price > 0 ? undefined : `cannot fill at ${price}: orders fill only at prices above 0`

/**
 * Units an order fills for at `price`: its quantity, or its notional converted. A buy's notional
 * is the most cash it spends, fee included, so that `notional: ctx.cash` can always be paid.
 */
export const fillQuantity = (
  order: { readonly side: OrderSide; readonly quantity?: number; readonly notional?: number },
  price: number,
  feeBps: number
): number =>
  order.quantity ??
  (order.side === "buy" ? order.notional! / (price * (1 + feeBps / BPS)) : order.notional! / price)

export const feeOf = (quantity: number, price: number, feeBps: number): number =>
  (quantity * price * feeBps) / BPS
