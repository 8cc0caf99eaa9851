/**
 * The Registry wired to a real DataHub in the same test: both on one fresh database, the
 * Registry's DATAHUB_URL pointing at the DataHub server. Validation really runs in the sandbox.
 */
import { HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { RegistryApi } from "@quasar/domain"
import { DatabaseUrl } from "@quasar/server"
import { TestDatabase, TestService } from "@quasar/server/testing"
import { Effect, Layer, Redacted } from "effect"
import { appLayer as dataHubApp } from "../../apps/datahub/src/App"
import { makeApp, RegistryLive } from "../../apps/registry/src/App"
import type { BuiltinSources } from "../../apps/registry/src/BuiltinSources"

export const registryWithDataHub = (builtins?: Layer.Layer<BuiltinSources>) =>
  Layer.unwrapScoped(
    Effect.gen(function* () {
      const url = yield* TestDatabase.fresh
      const database = DatabaseUrl.layer(Redacted.make(url))
      const datahubUrl = yield* TestService.start(dataHubApp(), database)
      return TestService.layer(
        builtins ? makeApp(builtins) : RegistryLive,
        database,
        TestService.testConfig({ datahubUrl })
      )
    })
  )

/** The derived Registry client, sending the admin token unless `token` is null. */
export const client = (token: string | null = TestService.ADMIN_TOKEN) =>
  HttpApiClient.make(
    RegistryApi,
    token === null ? {} : { transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken(token)) }
  )
