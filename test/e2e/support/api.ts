/**
 * The test's own way to arrange state (configure the fake-backed providers, seed a mapping):
 * the same derived clients the UI uses, with the admin token.
 */
import { FetchHttpClient, HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { DataHubApi, ProviderName, RegistryApi, TraderApi } from "@quasar/domain"
import { Effect, Schedule } from "effect"

/** `traderUrl` is absent for tests that start no Trader: `trader` is then a client of nothing. */
export const apiClients = (registryUrl: string, datahubUrl: string, token: string, traderUrl = "") => {
  const auth = HttpClient.mapRequest(HttpClientRequest.bearerToken(token))
  const registry = HttpApiClient.make(RegistryApi, { baseUrl: registryUrl, transformClient: auth })
  const datahub = HttpApiClient.make(DataHubApi, { baseUrl: datahubUrl, transformClient: auth })
  const trader = HttpApiClient.make(TraderApi, { baseUrl: traderUrl, transformClient: auth })
  const run = <A, E>(effect: Effect.Effect<A, E, HttpClient.HttpClient>) =>
    Effect.runPromise(effect.pipe(Effect.provide(FetchHttpClient.layer)))

  /** Built-in providers are registered in the background after start: wait until all are active. */
  const builtinsActive = (names: ReadonlyArray<string>) =>
    run(
      Effect.flatMap(registry, (c) => c.code.list()).pipe(
        Effect.filterOrFail(
          (list) => names.every((n) => list.some((p) => p.name === n && p.activeVersion !== null)),
          () => new Error(`built-in providers ${names.join(", ")} not all active yet`)
        ),
        Effect.retry(Schedule.spaced("500 millis").pipe(Schedule.upTo("90 seconds")))
      )
    )

  const configure = (name: string, values: Record<string, string | number | boolean>) =>
    run(
      Effect.flatMap(registry, (c) =>
        c.code.updateSettings({ path: { name: ProviderName.make(name) }, payload: { values } })
      )
    )

  const refreshAssets = (name: string) =>
    run(Effect.flatMap(registry, (c) => c.assets.refresh({ path: { provider: ProviderName.make(name) } })))

  return { registry, datahub, trader, run, builtinsActive, configure, refreshAssets }
}

export type ApiClients = ReturnType<typeof apiClients>
