/** Everything the datahub runs, given an HTTP server and a database. */
import { HttpApiBuilder } from "@effect/platform"
import { DataHubApi } from "@quasar/domain"
import { migrations } from "@quasar/migrations"
import { ChangeFeed, Health, HttpService, SchemaState } from "@quasar/server"
import { Layer } from "effect"
import { HealthApiLive } from "./HealthApi"
import { SandboxApiLive } from "./SandboxApi"

const ApiLive = HttpApiBuilder.api(DataHubApi).pipe(Layer.provide([HealthApiLive, SandboxApiLive]))

export const AppLive = HttpService.layer(ApiLive).pipe(
  Layer.provide(Health.layer("datahub")),
  Layer.provideMerge(ChangeFeed.layer),
  Layer.provideMerge(SchemaState.layer(migrations))
)
