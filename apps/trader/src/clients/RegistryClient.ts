/**
 * Trader's way to the Registry: the client derived from the Registry's HttpApi, as the UI uses
 * it. Trader only reads (strategy code, its versions, symbol mappings), which needs no credential.
 */
import { FetchHttpClient, HttpApiClient } from "@effect/platform"
import { RegistryApi } from "@quasar/domain"
import { ServiceConfig } from "@quasar/server"
import { Context, Effect, Layer } from "effect"

const make = (baseUrl: string) => HttpApiClient.make(RegistryApi, { baseUrl })

type Client = Effect.Effect.Success<ReturnType<typeof make>>

export class RegistryClient extends Context.Tag("@quasar/trader/RegistryClient")<RegistryClient, Client>() {
  static readonly layer = Layer.effect(
    RegistryClient,
    Effect.flatMap(ServiceConfig, (config) => make(config.registryUrl))
  ).pipe(Layer.provide(FetchHttpClient.layer))
}
