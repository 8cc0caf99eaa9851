/**
 * What broker code returns to its host, as Schemas: the SDK's `BrokerOrder`, `Fill`, `Position`,
 * `Balance` and `BrokerEvent` (libs/providers/src/sdk/broker.ts, whose plain interfaces uploaded
 * code sees). Trader checks every result against these before anything else reads it, since the
 * code is untrusted and its answers may cross a process boundary. Unknown keys are dropped.
 */
import { Schema } from "effect"

const Finite = Schema.Number.pipe(Schema.finite())
const Side = Schema.Literal("buy", "sell")

export const BrokerOrderWire = Schema.Struct({
  orderId: Schema.String,
  clientOrderId: Schema.UndefinedOr(Schema.String),
  symbol: Schema.String,
  side: Side,
  type: Schema.Literal("market", "limit", "stop"),
  quantity: Finite,
  filledQuantity: Finite,
  limitPrice: Schema.optional(Finite),
  stopPrice: Schema.optional(Finite),
  averagePrice: Schema.optional(Finite),
  fee: Schema.optional(Finite),
  status: Schema.Literal("pending", "open", "filled", "canceled", "expired"),
  createdAt: Finite,
  closedAt: Schema.optional(Finite),
  reason: Schema.optional(Schema.String)
}).annotations({ identifier: "BrokerOrder" })

export const FillWire = Schema.Struct({
  id: Schema.String,
  orderId: Schema.String,
  clientOrderId: Schema.UndefinedOr(Schema.String),
  symbol: Schema.String,
  side: Side,
  quantity: Finite,
  price: Finite,
  fee: Finite,
  ts: Finite,
  liquidity: Schema.optional(Schema.Literal("maker", "taker"))
}).annotations({ identifier: "Fill" })

export const PositionWire = Schema.Struct({
  symbol: Schema.String,
  quantity: Finite,
  averagePrice: Schema.optional(Finite)
}).annotations({ identifier: "Position" })

export const BalanceWire = Schema.Struct({
  asset: Schema.String,
  total: Finite,
  available: Schema.optional(Finite)
}).annotations({ identifier: "Balance" })

export const BrokerEventWire = Schema.Union(
  Schema.Struct({ type: Schema.Literal("order"), order: BrokerOrderWire }),
  Schema.Struct({ type: Schema.Literal("fill"), fill: FillWire }),
  Schema.Struct({ type: Schema.Literal("heartbeat") })
).annotations({ identifier: "BrokerEvent" })
