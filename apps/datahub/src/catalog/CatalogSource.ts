/**
 * Where DataHub's catalogue comes from: the Registry's internal `catalog` routes through the
 * derived client (with the service credential), or an in-memory one in tests. Every failure to
 * get an answer is a ServiceUnavailable saying what to do; "no such code" is an empty Option.
 */
import { FetchHttpClient, HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import {
  type CatalogAsset,
  type CatalogChanges,
  type CatalogCode,
  type CatalogMapping,
  type OpenedSettings,
  ProviderName,
  RegistryApi,
  ServiceUnavailable
} from "@quasar/domain"
import { ServiceConfig } from "@quasar/server"
import { Effect, Option, Redacted, Schema } from "effect"

export interface CatalogSource {
  readonly changes: (
    after: number | undefined,
    waitMs: number
  ) => Effect.Effect<CatalogChanges, ServiceUnavailable>
  /** The current version of `name` (active or disabled), else its newest; none when it has no code. */
  readonly current: (name: string) => Effect.Effect<Option.Option<CatalogCode>, ServiceUnavailable>
  readonly version: (
    name: string,
    version: number
  ) => Effect.Effect<Option.Option<CatalogCode>, ServiceUnavailable>
  readonly settings: (name: string) => Effect.Effect<OpenedSettings, ServiceUnavailable>
  readonly providers: Effect.Effect<ReadonlyArray<string>, ServiceUnavailable>
  readonly assets: (provider: string) => Effect.Effect<ReadonlyArray<CatalogAsset>, ServiceUnavailable>
  readonly mappings: Effect.Effect<ReadonlyArray<CatalogMapping>, ServiceUnavailable>
}

const isName = Schema.is(ProviderName)

const makeClient = (baseUrl: string, serviceToken: Option.Option<Redacted.Redacted<string>>) =>
  HttpApiClient.make(RegistryApi, {
    baseUrl,
    transformClient: Option.match(serviceToken, {
      onNone: () => undefined,
      onSome: (token) => HttpClient.mapRequest(HttpClientRequest.bearerToken(Redacted.value(token)))
    })
  }).pipe(Effect.provide(FetchHttpClient.layer))

type Client = Effect.Effect.Success<ReturnType<typeof makeClient>>["catalog"]

interface Failure {
  readonly _tag: string
  readonly message: string
}

/**
 * The Registry's catalogue over HTTP with `QUASAR_SERVICE_TOKEN`, at `registryUrl` (asked when
 * first needed: a test starts DataHub before the Registry it talks to).
 */
export const fromRegistry = (registryUrl: Effect.Effect<string>) =>
  Effect.gen(function* () {
    const config = yield* ServiceConfig
    const url = yield* Effect.cached(registryUrl)
    const client = yield* Effect.cached(
      Effect.flatMap(url, (baseUrl) => makeClient(baseUrl, config.serviceToken))
    )
    const call = <A, E extends Failure>(what: string, f: (c: Client) => Effect.Effect<A, E>) =>
      Effect.flatMap(client, (c) => f(c.catalog)).pipe(
        Effect.catchAll((e) =>
          Effect.flatMap(url, (at) =>
            Effect.fail(
              e._tag === "ServiceUnavailable"
                ? new ServiceUnavailable({ message: e.message })
                : new ServiceUnavailable({
                    message:
                      e._tag === "Unauthorized" || e._tag === "TooManyAttempts"
                        ? `the Registry refused DataHub's service credential reading ${what} (${e.message}): set the same QUASAR_SERVICE_TOKEN on both services`
                        : `cannot read ${what} from the Registry at ${at} (${e.message}): start the Registry or set REGISTRY_URL`
                  })
            )
          )
        )
      )

    /** A name that is no ProviderName names no code: the Registry stores none such. */
    const code = (
      name: string,
      get: (c: Client, name: ProviderName) => Effect.Effect<CatalogCode, Failure>
    ) =>
      isName(name)
        ? call(`the code of "${name}"`, (c) =>
            get(c, name).pipe(
              Effect.map(Option.some),
              Effect.catchIf(
                (e) => e._tag === "NotFound",
                () => Effect.succeed(Option.none<CatalogCode>())
              )
            )
          )
        : Effect.succeed(Option.none<CatalogCode>())

    return {
      changes: (after, waitMs) => call("its changes", (c) => c.changes({ urlParams: { after, waitMs } })),
      current: (name) => code(name, (c, n) => c.current({ path: { name: n } })),
      version: (name, version) => code(name, (c, n) => c.version({ path: { name: n, version } })),
      settings: (name) =>
        isName(name)
          ? call(`the settings of "${name}"`, (c) => c.settings({ path: { name } }))
          : Effect.succeed({ name: name as ProviderName, values: {}, unopened: [] }),
      providers: call("the providers it knows", (c) => c.providers()),
      assets: (provider) =>
        isName(provider)
          ? call(`the assets of "${provider}"`, (c) => c.assets({ path: { name: provider } }))
          : Effect.succeed([]),
      mappings: call("the mappings", (c) => c.mappings())
    } satisfies CatalogSource
  })
