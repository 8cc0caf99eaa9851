import type { StrategyOrderInput } from "@quasar/providers/sdk"

const positive = (x: unknown): boolean => typeof x === "number" && Number.isFinite(x) && x > 0

/**
 * Why an order cannot be placed, or undefined when it is well formed. Checked when the strategy
 * places it; whether cash or the position covers it is checked when it fills.
 */
export const orderProblem = (
  order: StrategyOrderInput,
  universe: ReadonlySet<string>
): string | undefined => {
  if (typeof order !== "object" || order === null) return "an order must be an object"
  if (typeof order.symbol !== "string" || !universe.has(order.symbol))
    return `symbol ${JSON.stringify(order.symbol)} is not in the universe (${[...universe].join(", ")})`
  if (order.side !== "buy" && order.side !== "sell") return `side must be "buy" or "sell"`
  const hasQuantity = order.quantity !== undefined
  const hasNotional = order.notional !== undefined
  if (hasQuantity === hasNotional) return "give exactly one of quantity or notional"
  if (hasQuantity && !positive(order.quantity))
    return `quantity must be a finite number above 0 (got ${String(order.quantity)})`
  if (hasNotional && !positive(order.notional))
    return `notional must be a finite number above 0 (got ${String(order.notional)})`
  switch (order.type) {
    case "market":
      return order.limitPrice !== undefined || order.stopPrice !== undefined
        ? "a market order takes neither limitPrice nor stopPrice"
        : undefined
    case "limit":
      if (!positive(order.limitPrice)) return "a limit order needs a limitPrice above 0"
      return order.stopPrice !== undefined ? "a limit order takes no stopPrice" : undefined
    case "stop":
      if (!positive(order.stopPrice)) return "a stop order needs a stopPrice above 0"
      return order.limitPrice !== undefined
        ? "stop-limit orders are not modelled; give no limitPrice"
        : undefined
    default:
      return `type must be "market", "limit" or "stop"`
  }
}
