/**
 * Trader's way to DataHub: the client derived from DataHub's HttpApi, with the service credential
 * for DataHub's internal routes (making a deployment's series live); bar reads need none.
 */
import { FetchHttpClient, HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { DataHubApi } from "@quasar/domain"
import { ServiceConfig } from "@quasar/server"
import { Context, Effect, Layer, Option, type Redacted } from "effect"

const make = (baseUrl: string, serviceToken: Option.Option<Redacted.Redacted<string>>) =>
  HttpApiClient.make(DataHubApi, {
    baseUrl,
    transformClient: Option.match(serviceToken, {
      onNone: () => undefined,
      onSome: (token) => HttpClient.mapRequest(HttpClientRequest.bearerToken(token))
    })
  })

type Client = Effect.Effect.Success<ReturnType<typeof make>>

export class DataHubClient extends Context.Tag("@quasar/trader/DataHubClient")<DataHubClient, Client>() {
  static readonly layer = Layer.effect(
    DataHubClient,
    Effect.flatMap(ServiceConfig, (config) => make(config.datahubUrl, config.serviceToken))
  ).pipe(Layer.provide(FetchHttpClient.layer))
}
