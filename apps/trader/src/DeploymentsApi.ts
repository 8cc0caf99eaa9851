/** The deployments group's handlers: each one call of the deployments' runner. */
import { HttpApiBuilder } from "@effect/platform"
import { TraderApi } from "@quasar/domain"
import { Effect } from "effect"
import { DeploymentRunner } from "./deploy/DeploymentRunner"

export const DeploymentsApiLive = HttpApiBuilder.group(TraderApi, "deployments", (handlers) =>
  Effect.map(DeploymentRunner, (runner) =>
    handlers
      .handle("create", ({ payload }) => runner.create(payload))
      .handle("list", ({ urlParams }) => runner.list(urlParams))
      .handle("get", ({ path }) => runner.get(path.id))
      .handle("start", ({ path }) => runner.start(path.id))
      .handle("stop", ({ path }) => runner.stop(path.id))
      .handle("kill", ({ path }) => runner.kill(path.id))
      .handle("orders", ({ path, urlParams }) => runner.orders(path.id, urlParams.limit))
      .handle("fills", ({ path, urlParams }) => runner.fills(path.id, urlParams.limit))
      .handle("audit", ({ path, urlParams }) => runner.audit(path.id, urlParams.limit))
  )
)
