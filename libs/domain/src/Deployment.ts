/**
 * A deployment: a strategy version run live with params on a paper or broker account, bar by bar, under
 * risk limits. Its orders, fills, equity and every order and risk decision (the audit trail) are
 * kept by Trader. Prices and notionals are in the account's quote currency; bulk times are UTC
 * epoch milliseconds (bar open times), like a backtest's result.
 */
import { Schema } from "effect"
import { BacktestRequest, StrategyName } from "./Backtest"
import { ProviderName, SerialId, Timestamp } from "./Common"

const Finite = Schema.Number.pipe(Schema.finite())
const Money = Finite.pipe(Schema.positive(), Schema.lessThanOrEqualTo(1e15))
const EpochMillis = Schema.Number.pipe(Schema.int(), Schema.nonNegative()).annotations({
  description: "UTC epoch milliseconds"
})
const Basis = Schema.Number.pipe(Schema.between(0, 1_000)).annotations({
  description: "basis points (1 bp = 0.01 %), 0 to 1000"
})

export const DeploymentId = SerialId.pipe(Schema.brand("DeploymentId")).annotations({
  identifier: "DeploymentId",
  description: "a deployment's id"
})
export type DeploymentId = typeof DeploymentId.Type

/** A simulated account: fills against live bars with the backtests' fill model (README "Fill model"). */
export const PaperAccountSpec = Schema.Struct({
  type: Schema.Literal("paper"),
  initialCash: Schema.optionalWith(Money, { default: () => 10_000 }),
  /** The cash currency; the universe's symbols are `BASE/QUOTE` pairs in it. */
  quote: Schema.optionalWith(Schema.String.pipe(Schema.pattern(/^[A-Z][A-Z0-9]{1,9}$/)), {
    default: () => "USD"
  }),
  feeBps: Schema.optionalWith(Basis, { default: () => 10 }),
  slippageBps: Schema.optionalWith(Basis, { default: () => 5 })
}).annotations({ identifier: "PaperAccountSpec" })
export type PaperAccountSpec = typeof PaperAccountSpec.Type

const Quote = Schema.String.pipe(Schema.pattern(/^[A-Z][A-Z0-9]{1,9}$/))

/**
 * An account at a broker: orders go to the active version of broker code `broker` (kind broker in
 * the Registry) with its stored settings; fills and fees are the broker's. The universe's common
 * symbols are traded as the broker's own symbols, from the Registry's mappings for the broker.
 */
export const BrokerAccountSpec = Schema.Struct({
  type: Schema.Literal("broker"),
  broker: ProviderName,
  /** The cash currency of the account; the universe's symbols are `BASE/QUOTE` pairs in it. */
  quote: Schema.optionalWith(Quote, { default: () => "USD" })
}).annotations({ identifier: "BrokerAccountSpec" })
export type BrokerAccountSpec = typeof BrokerAccountSpec.Type

export const AccountSpec = Schema.Union(PaperAccountSpec, BrokerAccountSpec).annotations({
  identifier: "AccountSpec"
})
export type AccountSpec = typeof AccountSpec.Type

/**
 * Per deployment. An order above `maxOrderNotional`, or a buy that would take a position above
 * `maxPositionNotional`, is refused; a loss since the UTC day's start above `maxDailyLoss` stops
 * the deployment and flattens it.
 */
export const RiskLimits = Schema.Struct({
  maxOrderNotional: Money,
  maxPositionNotional: Money,
  maxDailyLoss: Money
}).annotations({ identifier: "RiskLimits" })
export type RiskLimits = typeof RiskLimits.Type

export const DeploymentRequest = Schema.Struct({
  strategy: StrategyName,
  /** The code registry's version; the active one when not given. */
  version: Schema.optional(Schema.Int.pipe(Schema.positive())),
  params: BacktestRequest.fields.params,
  /** Where the universe's bars come from (DataHub's live feed of this provider). */
  provider: ProviderName,
  /** A paper account, or an account at a broker. */
  account: AccountSpec,
  risk: RiskLimits
}).annotations({ identifier: "DeploymentRequest" })
export type DeploymentRequest = typeof DeploymentRequest.Type

/**
 * created → running → stopped (by the user) | flattening → killed (kill switch) | breached (a risk
 * limit) | failed (the strategy threw; positions are left as they are). `flattening`: stopped,
 * closing its positions at market; it ends as `killed` or `breached` once flat.
 */
export const DeploymentStatus = Schema.Literal(
  "created",
  "running",
  "stopped",
  "flattening",
  "killed",
  "breached",
  "failed"
)
export type DeploymentStatus = typeof DeploymentStatus.Type

export const PositionView = Schema.Struct({
  symbol: Schema.String,
  quantity: Finite,
  /** Average entry price, fees excluded. */
  averagePrice: Finite,
  /** The latest close seen (the entry price before any bar). */
  lastPrice: Finite,
  marketValue: Finite,
  /** Market value less what the units held cost, their buy fees included. */
  unrealizedPnl: Finite
}).annotations({ identifier: "PositionView" })
export type PositionView = typeof PositionView.Type

export const Deployment = Schema.Struct({
  id: DeploymentId,
  strategy: StrategyName,
  version: Schema.Int,
  provider: ProviderName,
  params: BacktestRequest.fields.params,
  account: Schema.Union(
    Schema.Struct({
      type: Schema.Literal("paper"),
      initialCash: Finite,
      quote: Schema.String,
      feeBps: Finite,
      slippageBps: Finite
    }),
    Schema.Struct({
      type: Schema.Literal("broker"),
      broker: Schema.String,
      /** The account's free cash in `quote` when the deployment was created: its cash and P&L count from it. */
      initialCash: Finite,
      quote: Schema.String
    })
  ),
  risk: RiskLimits,
  universe: Schema.Array(Schema.String),
  timeframe: Schema.String,
  status: DeploymentStatus,
  /** Why it stopped, failed or was flattened. */
  message: Schema.NullOr(Schema.String),
  createdAt: Timestamp,
  /** Open time of the last bar it traded on. */
  lastBarTs: Schema.NullOr(EpochMillis),
  cash: Finite,
  equity: Finite,
  positions: Schema.Array(PositionView)
}).annotations({ identifier: "Deployment" })
export type Deployment = typeof Deployment.Type

/**
 * `sending`: recorded before the call to the broker, whose outcome is not known yet (it is looked
 * up by client order id when Trader starts again); `unplaced`: the broker has no such order after
 * the time it guarantees one could still appear, so nothing was placed. The others as a broker
 * reports them; `rejected`: refused before or by the account, with the reason.
 */
export const DeploymentOrderStatus = Schema.Literal(
  "sending",
  "open",
  "filled",
  "canceled",
  "expired",
  "rejected",
  "unplaced"
)
export type DeploymentOrderStatus = typeof DeploymentOrderStatus.Type

export const DeploymentOrder = Schema.Struct({
  clientOrderId: Schema.String,
  /** The account's own id (the broker's order id); null when the account has not taken it (yet). */
  orderId: Schema.NullOr(Schema.String),
  symbol: Schema.String,
  side: Schema.Literal("buy", "sell"),
  type: Schema.Literal("market", "limit", "stop"),
  quantity: Finite,
  limitPrice: Schema.NullOr(Finite),
  stopPrice: Schema.NullOr(Finite),
  status: DeploymentOrderStatus,
  /** Open time of the bar it was placed on. */
  placedAt: EpochMillis,
  reason: Schema.NullOr(Schema.String)
}).annotations({ identifier: "DeploymentOrder" })
export type DeploymentOrder = typeof DeploymentOrder.Type

export const DeploymentFill = Schema.Struct({
  fillId: Schema.String,
  clientOrderId: Schema.String,
  symbol: Schema.String,
  side: Schema.Literal("buy", "sell"),
  quantity: Finite,
  price: Finite,
  fee: Finite,
  /** Open time of the bar it filled in. */
  ts: EpochMillis
}).annotations({ identifier: "DeploymentFill" })
export type DeploymentFill = typeof DeploymentFill.Type

/** `order`: the account took or refused an order; `risk`: a limit's decision; `status`: a change of state. */
export const AuditKind = Schema.Literal("order", "risk", "status")
export type AuditKind = typeof AuditKind.Type

export const AuditEntry = Schema.Struct({
  /** Bar open time the decision was taken on. */
  ts: EpochMillis,
  kind: AuditKind,
  /** e.g. `placed`, `refused`, `accepted`, `rejected`, `breach`, `killed`. */
  decision: Schema.String,
  clientOrderId: Schema.NullOr(Schema.String),
  message: Schema.String
}).annotations({ identifier: "AuditEntry" })
export type AuditEntry = typeof AuditEntry.Type
