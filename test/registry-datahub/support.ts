/**
 * The Registry wired to a real DataHub in the same test: both on one fresh database, the
 * Registry's DATAHUB_URL pointing at the DataHub server and DataHub reading the Registry's
 * catalogue over HTTP. Validation really runs in the sandbox.
 */
import { HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { RegistryApi } from "@quasar/domain"
import { DatabaseUrl } from "@quasar/server"
import { TestDatabase, TestService } from "@quasar/server/testing"
import { Effect, Layer, Redacted } from "effect"
import { makeApp, RegistryLive } from "../../apps/registry/src/App"
import type { BuiltinSources } from "../../apps/registry/src/BuiltinSources"
import { registryWithDataHub as withDataHub } from "../support/registryLink"

export const registryWithDataHub = (builtins?: Layer.Layer<BuiltinSources>) =>
  Layer.unwrapScoped(
    Effect.map(TestDatabase.fresh, (url) => {
      const database = DatabaseUrl.layer(Redacted.make(url))
      return withDataHub(database, (datahubUrl) =>
        TestService.layer(
          builtins ? makeApp(builtins) : RegistryLive,
          database,
          TestService.testConfig({ datahubUrl })
        )
      )
    })
  )

/** The derived Registry client, sending the admin token unless `token` is null. */
export const client = (token: string | null = TestService.ADMIN_TOKEN) =>
  HttpApiClient.make(
    RegistryApi,
    token === null ? {} : { transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken(token)) }
  )
