/**
 * The Registry's way to DataHub: the client derived from DataHub's HttpApi, exactly as the UI
 * uses it, sending the service credential (`QUASAR_SERVICE_TOKEN`) that DataHub's internal
 * routes require. Trace context travels in the request headers, so both services' spans join.
 */
import { FetchHttpClient, HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { DataHubApi } from "@quasar/domain"
import { ServiceConfig } from "@quasar/server"
import { Context, Effect, Layer, Option, Redacted } from "effect"

const make = (baseUrl: string, serviceToken: Option.Option<Redacted.Redacted<string>>) =>
  HttpApiClient.make(DataHubApi, {
    baseUrl,
    transformClient: Option.match(serviceToken, {
      onNone: () => undefined,
      onSome: (token) => HttpClient.mapRequest(HttpClientRequest.bearerToken(Redacted.value(token)))
    })
  })

type Client = Effect.Effect.Success<ReturnType<typeof make>>

export class DataHubClient extends Context.Tag("@quasar/registry/DataHubClient")<DataHubClient, Client>() {}

/** Every way a call to DataHub's sandbox routes can fail. */
export type SandboxError = Effect.Effect.Error<ReturnType<Client["sandbox"]["listAssets"]>>

export const layer = Layer.effect(
  DataHubClient,
  Effect.flatMap(ServiceConfig, (config) => make(config.datahubUrl, config.serviceToken))
).pipe(Layer.provide(FetchHttpClient.layer))
