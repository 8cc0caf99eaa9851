/**
 * Trader (port 8082): backtests of strategy code on stored bars. A run is accepted at once (202)
 * and runs in the background, a few at a time; its status, progress and ETA are polled, and its
 * full result is read back once it is done. Strategies themselves are the Registry's code of kind
 * `strategy` (see CodeApi).
 */
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { AdminAuth } from "./Auth"
import { BacktestInputs, BacktestRequest, BacktestResult, BacktestStatistics, StrategyName } from "./Backtest"
import { BodyPolicy } from "./BodyPolicy"
import { ProviderName, SerialId, Timestamp } from "./Common"
import { DeploymentsGroup } from "./DeploymentsApi"
import { Conflict, InvalidRequest, NotFound, ServiceUnavailable } from "./Errors"
import { HealthGroup } from "./HealthApi"
import { markInternalOperations } from "./Internal"
import { PortfolioGroup } from "./PortfolioApi"

export const BacktestId = SerialId.pipe(Schema.brand("BacktestId")).annotations({
  identifier: "BacktestId",
  description: "a backtest run's id"
})
export type BacktestId = typeof BacktestId.Type

/**
 * queued → running → completed | failed | cancelled. `interrupted`: Trader stopped (crash,
 * restart) while the run was queued or running; submit it again to rerun it.
 */
export const BacktestRunStatus = Schema.Literal(
  "queued",
  "running",
  "completed",
  "failed",
  "cancelled",
  "interrupted"
)
export type BacktestRunStatus = typeof BacktestRunStatus.Type

/** Bar times done of the run's total, and the estimated time left (null until it can be told). */
export const BacktestProgress = Schema.Struct({
  done: Schema.Int,
  total: Schema.Int,
  etaSeconds: Schema.NullOr(Schema.Number)
}).annotations({ identifier: "BacktestProgress" })
export type BacktestProgress = typeof BacktestProgress.Type

/** One run as lists show it: what was asked, how far it got, and its headline numbers once done. */
export const BacktestSummary = Schema.Struct({
  id: BacktestId,
  status: BacktestRunStatus,
  strategy: StrategyName,
  /** The Registry's code version that runs (the active one at submission when none was asked). */
  version: Schema.Int,
  provider: ProviderName,
  from: Timestamp,
  to: Timestamp,
  params: BacktestInputs.fields.params,
  initialCash: Schema.Number,
  createdAt: Timestamp,
  startedAt: Schema.NullOr(Timestamp),
  finishedAt: Schema.NullOr(Timestamp),
  progress: BacktestProgress,
  /** Why a failed, cancelled or interrupted run stopped. */
  message: Schema.NullOr(Schema.String),
  /** Set when the run completed (or failed mid-run with a partial result). */
  statistics: Schema.NullOr(BacktestStatistics)
}).annotations({ identifier: "BacktestSummary" })
export type BacktestSummary = typeof BacktestSummary.Type

/** One run in full: its summary, its exact inputs once resolved, and its result once done. */
export const BacktestDetail = Schema.Struct({
  ...BacktestSummary.fields,
  inputs: Schema.NullOr(BacktestInputs),
  result: Schema.NullOr(BacktestResult)
}).annotations({ identifier: "BacktestDetail" })
export type BacktestDetail = typeof BacktestDetail.Type

export const BacktestAccepted = Schema.Struct({
  id: BacktestId,
  status: BacktestRunStatus
}).annotations({ identifier: "BacktestAccepted" })
export type BacktestAccepted = typeof BacktestAccepted.Type

export const BacktestListParams = Schema.Struct({
  status: Schema.optional(BacktestRunStatus),
  strategy: Schema.optional(StrategyName),
  /** Newest first; at most this many (default 100). */
  limit: Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 1_000)))
})

const id = HttpApiSchema.param("id", Schema.NumberFromString.pipe(Schema.compose(BacktestId)))

export class BacktestsGroup extends HttpApiGroup.make("backtests")
  .add(
    HttpApiEndpoint.post("submit", "/backtests")
      .setPayload(BacktestRequest)
      .addSuccess(BacktestAccepted, { status: 202 })
      .addError(InvalidRequest)
      .addError(NotFound)
      .addError(Conflict)
      .addError(ServiceUnavailable)
      .middleware(AdminAuth)
      .annotate(
        OpenApi.Description,
        "Check and queue a backtest: 400 for bad params or a range without bars, 404 for an unknown " +
          "strategy or version; the run's id comes back at once (202), poll GET /backtests/{id}"
      )
  )
  .add(
    HttpApiEndpoint.get("list", "/backtests")
      .setUrlParams(BacktestListParams)
      .addSuccess(Schema.Array(BacktestSummary))
  )
  .add(HttpApiEndpoint.get("get")`/backtests/${id}`.addSuccess(BacktestDetail).addError(NotFound))
  .add(
    HttpApiEndpoint.post("cancel")`/backtests/${id}/cancel`
      .addSuccess(BacktestSummary)
      .addError(NotFound)
      .addError(Conflict)
      .middleware(AdminAuth)
      .annotate(OpenApi.Description, "Stop a queued or running backtest; 409 when it has already ended")
  )
  .add(
    HttpApiEndpoint.del("remove")`/backtests/${id}`
      .addSuccess(Schema.Void)
      .addError(NotFound)
      .addError(Conflict)
      .middleware(AdminAuth)
      .annotate(
        OpenApi.Description,
        "Delete an ended backtest and its result; 409 while it is queued or running"
      )
  )
  .middleware(BodyPolicy)
  .annotate(
    OpenApi.Description,
    "Backtests: run strategy code over stored bars, with progress and results"
  ) {}

/** Trader (port 8082): strategies' backtests. */
export class TraderApi extends HttpApi.make("trader")
  .add(HealthGroup)
  .add(BacktestsGroup)
  .add(DeploymentsGroup)
  .add(PortfolioGroup)
  .annotate(OpenApi.Transform, markInternalOperations)
  .annotate(OpenApi.Title, "Quasar Trader")
  .annotate(OpenApi.Description, "Strategy backtests over the bars DataHub stores") {}
