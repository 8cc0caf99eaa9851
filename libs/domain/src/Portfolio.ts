/**
 * Portfolio performance of deployments' accounts, one by one and all together: positions marked
 * to market from the latest bars, realised and unrealised PnL (fees counted in both: a buy's fee
 * is part of what its units cost, a sell's is taken from what it brought in, so that
 * `equity - initialCash = realizedPnl + unrealizedPnl`), the equity curve with its drawdown,
 * exposure by asset, fills and fees.
 */
import { Schema } from "effect"
import { StrategyName } from "./Backtest"
import { DeploymentFill, DeploymentId, DeploymentStatus, PositionView } from "./Deployment"

const Finite = Schema.Number.pipe(Schema.finite())

export const EquityPoint = Schema.Struct({
  /** Close of the bar time (its open time, UTC epoch ms). */
  ts: Schema.Number,
  equity: Finite,
  /** 1 − equity / the highest equity so far (initial cash included), 0 at a new high. */
  drawdown: Finite
}).annotations({ identifier: "EquityPoint" })
export type EquityPoint = typeof EquityPoint.Type

export const Exposure = Schema.Struct({
  /** The base asset (`BTC` of `BTC/USD`). */
  asset: Schema.String,
  marketValue: Finite,
  /** Share of equity. */
  share: Finite
}).annotations({ identifier: "Exposure" })
export type Exposure = typeof Exposure.Type

export const Performance = Schema.Struct({
  initialCash: Finite,
  cash: Finite,
  equity: Finite,
  realizedPnl: Finite,
  unrealizedPnl: Finite,
  fees: Finite,
  maxDrawdown: Finite,
  positions: Schema.Array(PositionView),
  exposure: Schema.Array(Exposure),
  equityCurve: Schema.Array(EquityPoint)
}).annotations({ identifier: "Performance" })
export type Performance = typeof Performance.Type

export const AccountPortfolio = Schema.Struct({
  deploymentId: DeploymentId,
  strategy: StrategyName,
  status: DeploymentStatus,
  quote: Schema.String,
  ...Performance.fields,
  fills: Schema.Array(DeploymentFill)
}).annotations({ identifier: "AccountPortfolio" })
export type AccountPortfolio = typeof AccountPortfolio.Type

/** Every account, and their sum (positions of one symbol held by several accounts are listed per account). */
export const Portfolio = Schema.Struct({
  accounts: Schema.Array(AccountPortfolio),
  total: Performance
}).annotations({ identifier: "Portfolio" })
export type Portfolio = typeof Portfolio.Type
