import type { OrderRequest } from "./broker"

const positive = (x: unknown): boolean => typeof x === "number" && Number.isFinite(x) && x > 0

/**
 * What is wrong with an order request before any broker sees it, one sentence a problem; empty
 * when it is well formed. Brokers call it first and throw `FatalError` (reason `invalidOrder`);
 * the host can call it too, since the request may come from a strategy.
 */
export const orderRequestProblems = (order: OrderRequest): ReadonlyArray<string> => {
  const problems: Array<string> = []
  if (typeof order.clientOrderId !== "string" || order.clientOrderId.trim() === "")
    problems.push("clientOrderId must be a non-empty string (a UUID)")
  if (typeof order.symbol !== "string" || order.symbol === "")
    problems.push("symbol must be a non-empty string")
  if (order.side !== "buy" && order.side !== "sell") problems.push(`side must be "buy" or "sell"`)
  if (!positive(order.quantity)) problems.push("quantity must be a number greater than 0")
  if (order.limitPrice !== undefined && !positive(order.limitPrice))
    problems.push("limitPrice must be a number greater than 0")
  if (order.stopPrice !== undefined && !positive(order.stopPrice))
    problems.push("stopPrice must be a number greater than 0")
  switch (order.type) {
    case "market":
      if (order.limitPrice !== undefined || order.stopPrice !== undefined)
        problems.push("a market order takes neither limitPrice nor stopPrice")
      break
    case "limit":
      if (order.limitPrice === undefined) problems.push("a limit order needs limitPrice")
      if (order.stopPrice !== undefined) problems.push("a limit order takes no stopPrice (use type stop)")
      break
    case "stop":
      if (order.stopPrice === undefined) problems.push("a stop order needs stopPrice")
      break
    default:
      problems.push(`type must be "market", "limit" or "stop"`)
  }
  return problems
}
