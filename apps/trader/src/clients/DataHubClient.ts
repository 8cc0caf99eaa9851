/** Trader's way to DataHub: the client derived from DataHub's HttpApi; bar reads need no credential. */
import { FetchHttpClient, HttpApiClient } from "@effect/platform"
import { DataHubApi } from "@quasar/domain"
import { ServiceConfig } from "@quasar/server"
import { Context, Effect, Layer } from "effect"

const make = (baseUrl: string) => HttpApiClient.make(DataHubApi, { baseUrl })

type Client = Effect.Effect.Success<ReturnType<typeof make>>

export class DataHubClient extends Context.Tag("@quasar/trader/DataHubClient")<DataHubClient, Client>() {
  static readonly layer = Layer.effect(
    DataHubClient,
    Effect.flatMap(ServiceConfig, (config) => make(config.datahubUrl))
  ).pipe(Layer.provide(FetchHttpClient.layer))
}
