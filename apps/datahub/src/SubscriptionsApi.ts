/** The subscriptions endpoints: each maps to one call of the Subscriptions service. */
import { HttpApiBuilder } from "@effect/platform"
import { DataHubApi } from "@quasar/domain"
import { orDieOnSql } from "@quasar/server"
import { Effect } from "effect"
import { Subscriptions } from "./collect/Subscriptions"

export const SubscriptionsApiLive = HttpApiBuilder.group(DataHubApi, "subscriptions", (handlers) =>
  Effect.gen(function* () {
    const subscriptions = yield* Subscriptions
    return handlers
      .handle("create", ({ payload }) => orDieOnSql(subscriptions.create(payload)))
      .handle("list", ({ urlParams }) => orDieOnSql(subscriptions.list(urlParams)))
      .handle("get", ({ path }) => orDieOnSql(subscriptions.get(path.id)))
      .handle("pause", ({ path }) => orDieOnSql(subscriptions.pause(path.id)))
      .handle("resume", ({ path }) => orDieOnSql(subscriptions.resume(path.id)))
      .handle("remove", ({ path, urlParams }) =>
        orDieOnSql(subscriptions.remove(path.id, urlParams.purge ?? false))
      )
      .handle("coverage", ({ path }) => orDieOnSql(subscriptions.coverage(path.id)))
  })
)

/** Series other services need live (internal, service credential). */
export const LiveDemandApiLive = HttpApiBuilder.group(DataHubApi, "liveDemand", (handlers) =>
  Effect.map(Subscriptions, (subscriptions) =>
    handlers.handle("ensure", ({ payload }) => orDieOnSql(subscriptions.ensureLive(payload)))
  )
)
