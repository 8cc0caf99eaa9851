/**
 * A deployment's risk limits as pure decisions. An order is checked before the account sees it:
 * its notional, and for a buy the position it would make, at the reference price (its limit or
 * stop, else the last close). Sells only reduce a long-only position, so they pass the position
 * limit. The daily loss is counted from the equity at the UTC day's first bar; passing the limit
 * is a breach: the deployment stops and flattens.
 */
import type { RiskLimits } from "@quasar/domain"

export type RiskDecision =
  | { readonly ok: true; readonly message: string }
  | { readonly ok: false; readonly message: string }

export interface CheckedOrder {
  readonly side: "buy" | "sell"
  readonly quantity: number
  readonly price: number
}

const money = (x: number) => x.toFixed(2)

export const checkOrder = (limits: RiskLimits, order: CheckedOrder, held: number): RiskDecision => {
  const notional = order.quantity * order.price
  if (notional > limits.maxOrderNotional)
    return {
      ok: false,
      message: `order notional ${money(notional)} is above maxOrderNotional ${money(limits.maxOrderNotional)}`
    }
  if (order.side === "buy") {
    const position = (held + order.quantity) * order.price
    if (position > limits.maxPositionNotional)
      return {
        ok: false,
        message: `the position would be worth ${money(position)}, above maxPositionNotional ${money(limits.maxPositionNotional)}`
      }
  }
  return { ok: true, message: `order notional ${money(notional)} within limits` }
}

export const DAY_MS = 86_400_000

/** Start of the UTC day of `ts`. */
export const dayOf = (ts: number) => Math.floor(ts / DAY_MS) * DAY_MS

/** A breach message when today's loss passes the limit, else undefined. */
export const dailyLossBreach = (
  limits: RiskLimits,
  dayStartEquity: number,
  equity: number
): string | undefined => {
  const loss = dayStartEquity - equity
  return loss > limits.maxDailyLoss
    ? `lost ${money(loss)} since the UTC day started (equity ${money(dayStartEquity)} → ${money(equity)}), above maxDailyLoss ${money(limits.maxDailyLoss)}`
    : undefined
}
