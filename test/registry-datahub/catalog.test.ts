/**
 * DataHub reads what it needs of the Registry over HTTP (the internal catalogue) and keeps
 * working from what it cached while the Registry is down: a subscription made during the outage
 * is collected, and a mapping changed once the Registry is back reaches DataHub's bars. Secrets
 * cross only the internal channel, opened by the Registry.
 */
import { FetchHttpClient, HttpApiClient, HttpClient, HttpClientRequest, HttpServer } from "@effect/platform"
import { expect, layer } from "@effect/vitest"
import { DataHubApi, ProviderName, RegistryApi } from "@quasar/domain"
import { DatabaseUrl, SchemaState } from "@quasar/server"
import { TestDatabase, TestService } from "@quasar/server/testing"
import { Context, DateTime, Effect, Exit, Layer, Redacted, Schedule, Scope } from "effect"
import { appLayer as dataHubApp } from "../../apps/datahub/src/App"
import { RegistryCatalog } from "../../apps/datahub/src/catalog/RegistryCatalog"
import { subscribeSynthetic, untilBackfilled } from "../../apps/datahub/test/collect/support"
import { syntheticSource } from "../../apps/datahub/test/sandbox/fixtures/synthetic"
import { RegistryLive } from "../../apps/registry/src/App"
import { validJs } from "../fixtures/providerModules"
import { freePort } from "../support/registryLink"

const MINUTE = 60_000

class Registry extends Context.Tag("test/Registry")<
  Registry,
  { readonly database: Layer.Layer<DatabaseUrl>; readonly port: number }
>() {}

/** DataHub under test, reading the catalogue of a Registry the test starts and stops on `port`. */
const setup = Layer.unwrapScoped(
  Effect.gen(function* () {
    const url = yield* TestDatabase.fresh
    const database = DatabaseUrl.layer(Redacted.make(url))
    const port = yield* freePort
    return TestService.layer(
      dataHubApp().pipe(Layer.provide(RegistryCatalog.layer)),
      database,
      TestService.testConfig({ registryUrl: `http://127.0.0.1:${port}` })
    ).pipe(Layer.merge(Layer.succeed(Registry, { database, port })))
  })
)

/** Starts the Registry on its port in a scope of its own; closing that scope stops it. */
const startRegistry = Effect.gen(function* () {
  const { database, port } = yield* Registry
  const server = yield* HttpServer.HttpServer
  const datahubUrl = server.address._tag === "TcpAddress" ? `http://127.0.0.1:${server.address.port}` : ""
  const scope = yield* Scope.make()
  yield* TestService.start(RegistryLive, database, TestService.testConfig({ port, datahubUrl })).pipe(
    Scope.extend(scope)
  )
  const stop = Scope.close(scope, Exit.void)
  // Stopped by the test, or else when it ends.
  yield* Effect.addFinalizer(() => stop)
  const clientWith = (token: string) =>
    HttpApiClient.make(RegistryApi, {
      baseUrl: `http://127.0.0.1:${port}`,
      transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken(token))
    }).pipe(Effect.provide(FetchHttpClient.layer))
  const api = yield* clientWith(TestService.ADMIN_TOKEN)
  // Its tables are its own migrations' (DataHub's do not create them): ready once health says so.
  yield* api.health
    .health()
    .pipe(Effect.retry(Schedule.spaced("100 millis").pipe(Schedule.upTo("30 seconds"))))
  return { api, internal: yield* clientWith(TestService.SERVICE_TOKEN), stop }
})

const dataHub = Effect.zipRight(
  Effect.flatMap(SchemaState.SchemaState, (s) => s.ready),
  HttpApiClient.make(DataHubApi, {
    transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken(TestService.ADMIN_TOKEN))
  })
)

const synthetic = ProviderName.make("synthetic")

layer(setup, { timeout: 180_000, excludeTestServices: true })(
  "DataHub and the Registry's catalogue",
  (it) => {
    it.effect(
      "collection goes on while the Registry is down; a mapping changed after it returns reaches DataHub",
      () =>
        Effect.scoped(
          Effect.gen(function* () {
            const client = yield* dataHub
            const first = yield* startRegistry
            yield* first.api.code.upload({
              path: { name: synthetic },
              payload: { kind: "provider", language: "javascript", source: syntheticSource }
            })
            yield* first.api.code.updateSettings({
              path: { name: synthetic },
              payload: { values: { seed: 7 } }
            })
            yield* first.api.code.activate({ path: { name: synthetic, version: 1 } })

            const from = Math.floor(Date.now() / MINUTE) * MINUTE - 90 * MINUTE
            const before = yield* subscribeSynthetic(client, from)
            yield* untilBackfilled(client, before.id, "60 seconds")
            // Nothing is mapped yet: DataHub says so (and has asked the Registry for the mappings).
            const unmapped = yield* Effect.flip(
              client.bars.query({ urlParams: { commonSymbol: "SYN-COMMON", timeframe: "1m" } })
            )
            expect(unmapped).toMatchObject({ _tag: "NotFound" })

            yield* first.stop
            // The Registry is gone: a new subscription of the active provider is collected anyway.
            const [during] = yield* client.subscriptions.create({
              payload: {
                provider: synthetic,
                symbol: "SYN/EUR",
                timeframes: ["1m"],
                mode: "history",
                backfillFrom: DateTime.unsafeMake(from)
              }
            })
            yield* untilBackfilled(client, during!.id, "60 seconds")
            const stored = yield* client.bars.query({
              urlParams: { provider: synthetic, symbol: "SYN/EUR", timeframe: "1m", limit: 10 }
            })
            expect(typeof stored === "string" ? 0 : stored.bars.length).toBeGreaterThan(0)
            // What was cached still answers: the mappings (none), and the unknown-symbol check.
            expect(
              yield* Effect.flip(
                client.bars.query({ urlParams: { commonSymbol: "SYN-COMMON", timeframe: "1m" } })
              )
            ).toMatchObject({ _tag: "NotFound" })

            const second = yield* startRegistry
            yield* second.api.mappings.upsert({
              payload: { commonSymbol: "SYN-COMMON", source: synthetic, symbol: "SYN/EUR" }
            })
            const mapped = yield* client.bars
              .query({ urlParams: { commonSymbol: "SYN-COMMON", timeframe: "1m" } })
              .pipe(Effect.retry(Schedule.spaced("200 millis").pipe(Schedule.upTo("15 seconds"))))
            expect(mapped).toMatchObject({ provider: "synthetic", symbol: "SYN/EUR" })
            expect(typeof mapped === "string" ? 0 : mapped.bars.length).toBeGreaterThan(0)
            yield* second.stop
          })
        ),
      150_000
    )

    it.effect(
      "the Registry opens secrets for DataHub on the internal channel only",
      () =>
        Effect.scoped(
          Effect.gen(function* () {
            yield* dataHub
            const registry = yield* startRegistry
            const acme = ProviderName.make("acme")
            yield* registry.api.code.upload({
              path: { name: acme },
              payload: { kind: "provider", language: "javascript", source: validJs("acme") }
            })
            yield* registry.api.code.updateSettings({
              path: { name: acme },
              payload: { values: { apiKey: "s3cret", region: "us" } }
            })
            yield* registry.api.code.activate({ path: { name: acme, version: 1 } })
            // The public view never shows it; the internal one opens it, for the service credential only.
            expect((yield* registry.api.code.settings({ path: { name: acme } })).values).toEqual({
              region: "us"
            })
            expect((yield* registry.internal.catalog.settings({ path: { name: acme } })).values).toEqual({
              apiKey: "s3cret",
              region: "us"
            })
            expect(yield* Effect.flip(registry.api.catalog.settings({ path: { name: acme } }))).toMatchObject(
              {
                _tag: "Unauthorized"
              }
            )
            // DataHub runs the provider with it (its assets echo whether the key was right).
            const listing = yield* HttpApiClient.make(DataHubApi, {
              transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken(TestService.SERVICE_TOKEN))
            }).pipe(Effect.flatMap((c) => c.sandbox.listAssets({ path: { name: acme } })))
            expect(listing.assets).toEqual([{ symbol: "AAA", name: "us, key ok" }])
            yield* registry.stop
          })
        ),
      60_000
    )
  }
)
