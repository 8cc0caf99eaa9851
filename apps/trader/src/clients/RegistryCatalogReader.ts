/**
 * The Registry's internal catalogue (`/internal/catalog/*`) with Trader's service credential
 * (QUASAR_SERVICE_TOKEN): a broker's current code and its settings with secrets opened. Every
 * failure to get an answer is a ServiceUnavailable saying what to do; "no such code" is none.
 */
import { FetchHttpClient, HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { type CatalogCode, ProviderName, RegistryApi, ServiceUnavailable } from "@quasar/domain"
import { ServiceConfig } from "@quasar/server"
import { Effect, Layer, Option, Redacted, Schema } from "effect"
import { BrokerCatalog, type CatalogReader } from "../broker/BrokerCatalog"

const isName = Schema.is(ProviderName)

export const registryCatalogReader = Effect.gen(function* () {
  const config = yield* ServiceConfig
  const client = yield* HttpApiClient.make(RegistryApi, {
    baseUrl: config.registryUrl,
    transformClient: Option.match(config.serviceToken, {
      onNone: () => undefined,
      onSome: (token) => HttpClient.mapRequest(HttpClientRequest.bearerToken(Redacted.value(token)))
    })
  }).pipe(Effect.provide(FetchHttpClient.layer))

  const failed =
    (what: string) =>
    (e: { readonly _tag: string; readonly message: string }): Effect.Effect<never, ServiceUnavailable> =>
      Effect.fail(
        new ServiceUnavailable({
          message:
            e._tag === "ServiceUnavailable"
              ? e.message
              : e._tag === "Unauthorized" || e._tag === "TooManyAttempts"
                ? `the Registry refused Trader's service credential reading ${what} (${e.message}): set the same QUASAR_SERVICE_TOKEN on the Registry and Trader`
                : `cannot read ${what} from the Registry at ${config.registryUrl} (${e.message}): start the Registry or set REGISTRY_URL`
        })
      )

  return {
    current: (name) =>
      isName(name)
        ? client.catalog.current({ path: { name } }).pipe(
            Effect.map(Option.some),
            Effect.catchIf(
              (e) => e._tag === "NotFound",
              () => Effect.succeed(Option.none<CatalogCode>())
            ),
            Effect.catchAll(failed(`the code of "${name}"`))
          )
        : Effect.succeed(Option.none()),
    settings: (name) =>
      isName(name)
        ? client.catalog
            .settings({ path: { name } })
            .pipe(Effect.catchAll(failed(`the settings of "${name}"`)))
        : Effect.succeed({ name: name as ProviderName, values: {}, unopened: [] })
  } satisfies CatalogReader
})

/** BrokerCatalog over the Registry at REGISTRY_URL (needs ServiceConfig). */
export const registryBrokerCatalog = Layer.unwrapEffect(
  Effect.map(registryCatalogReader, BrokerCatalog.fromReader)
)
