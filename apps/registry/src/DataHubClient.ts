/**
 * The Registry's way to DataHub: the client derived from DataHub's HttpApi, exactly as the UI
 * uses it. Trace context travels in the request headers, so both services' spans join.
 */
import { FetchHttpClient, HttpApiClient } from "@effect/platform"
import { DataHubApi } from "@quasar/domain"
import { ServiceConfig } from "@quasar/server"
import { Context, Effect, Layer } from "effect"

const make = (baseUrl: string) => HttpApiClient.make(DataHubApi, { baseUrl })

export class DataHubClient extends Context.Tag("@quasar/registry/DataHubClient")<
  DataHubClient,
  Effect.Effect.Success<ReturnType<typeof make>>
>() {}

export const layer = Layer.effect(
  DataHubClient,
  Effect.flatMap(ServiceConfig, (config) => make(config.datahubUrl))
).pipe(Layer.provide(FetchHttpClient.layer))
