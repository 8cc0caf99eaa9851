/**
 * Trader's deployments: create one (a strategy version, params, a paper or broker account, risk limits),
 * start, stop, the kill switch (stop and flatten), and read its status, orders, fills and audit trail.
 */
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { AdminAuth } from "./Auth"
import { StrategyName } from "./Backtest"
import { BodyPolicy } from "./BodyPolicy"
import {
  AuditEntry,
  Deployment,
  DeploymentFill,
  DeploymentId,
  DeploymentOrder,
  DeploymentRequest,
  DeploymentStatus
} from "./Deployment"
import { Conflict, InvalidRequest, NotFound, ServiceUnavailable } from "./Errors"

export const DeploymentListParams = Schema.Struct({
  status: Schema.optional(DeploymentStatus),
  strategy: Schema.optional(StrategyName)
})

/** Newest first; at most `limit` (default 1000). */
export const DeploymentPageParams = Schema.Struct({
  limit: Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 10_000)))
})

const id = HttpApiSchema.param("id", Schema.NumberFromString.pipe(Schema.compose(DeploymentId)))

export class DeploymentsGroup extends HttpApiGroup.make("deployments")
  .add(
    HttpApiEndpoint.post("create", "/deployments")
      .setPayload(DeploymentRequest)
      .addSuccess(Deployment, { status: 201 })
      .addError(InvalidRequest)
      .addError(NotFound)
      .addError(ServiceUnavailable)
      .middleware(AdminAuth)
      .annotate(
        OpenApi.Description,
        "Create a deployment (status created): 400 for bad params or a universe the account cannot trade " +
          "(a broker account: a symbol the broker has no mapping for), 404 for an unknown strategy, " +
          "version or broker, 503 when the broker cannot be reached; start it with POST /deployments/{id}/start"
      )
  )
  .add(
    HttpApiEndpoint.get("list", "/deployments")
      .setUrlParams(DeploymentListParams)
      .addSuccess(Schema.Array(Deployment))
      .addError(ServiceUnavailable)
  )
  .add(
    HttpApiEndpoint.get("get")`/deployments/${id}`
      .addSuccess(Deployment)
      .addError(NotFound)
      .addError(ServiceUnavailable)
  )
  .add(
    HttpApiEndpoint.post("start")`/deployments/${id}/start`
      .addSuccess(Deployment)
      .addError(NotFound)
      .addError(Conflict)
      .addError(ServiceUnavailable)
      .middleware(AdminAuth)
      .annotate(
        OpenApi.Description,
        "Run a created or stopped deployment; 409 while it runs or after a kill, breach or failure"
      )
  )
  .add(
    HttpApiEndpoint.post("stop")`/deployments/${id}/stop`
      .addSuccess(Deployment)
      .addError(NotFound)
      .addError(Conflict)
      .addError(ServiceUnavailable)
      .middleware(AdminAuth)
      .annotate(OpenApi.Description, "Stop trading and keep the positions; 409 when it is not running")
  )
  .add(
    HttpApiEndpoint.post("kill")`/deployments/${id}/kill`
      .addSuccess(Deployment)
      .addError(NotFound)
      .addError(Conflict)
      .addError(ServiceUnavailable)
      .middleware(AdminAuth)
      .annotate(
        OpenApi.Description,
        "Kill switch: stop trading, cancel open orders and sell every position at market (status " +
          "flattening until the sells fill, then killed); 409 when it has already ended flat"
      )
  )
  .add(
    HttpApiEndpoint.get("orders")`/deployments/${id}/orders`
      .setUrlParams(DeploymentPageParams)
      .addSuccess(Schema.Array(DeploymentOrder))
      .addError(NotFound)
      .addError(ServiceUnavailable)
  )
  .add(
    HttpApiEndpoint.get("fills")`/deployments/${id}/fills`
      .setUrlParams(DeploymentPageParams)
      .addSuccess(Schema.Array(DeploymentFill))
      .addError(NotFound)
      .addError(ServiceUnavailable)
  )
  .add(
    HttpApiEndpoint.get("audit")`/deployments/${id}/audit`
      .setUrlParams(DeploymentPageParams)
      .addSuccess(Schema.Array(AuditEntry))
      .addError(NotFound)
      .addError(ServiceUnavailable)
      .annotate(OpenApi.Description, "Every order and every risk decision, newest first")
  )
  .middleware(BodyPolicy)
  .annotate(
    OpenApi.Description,
    "Deployments: strategies trading live on a paper or broker account, under risk limits"
  ) {}
