/** Everything the Registry runs, given an HTTP server, a database and its configuration. */
import { HttpApiBuilder } from "@effect/platform"
import { RegistryApi } from "@quasar/domain"
import { REGISTRY_SCHEMA, registryMigrations } from "@quasar/migrations/registry"
import { ChangeFeed, Health, HttpService, SchemaState } from "@quasar/server"
import { Layer } from "effect"
import * as AssetRefresh from "./AssetRefresh"
import { AssetsApiLive } from "./AssetsApi"
import { BuiltinRegistration } from "./BuiltinRegistration"
import { BuiltinSources } from "./BuiltinSources"
import { CatalogApiLive } from "./CatalogApi"
import { CodeApiLive } from "./CodeApi"
import { CodeRegistry } from "./CodeRegistry"
import { CodeRepo } from "./CodeRepo"
import * as DataHubClient from "./DataHubClient"
import { HealthApiLive } from "./HealthApi"
import { MappingsApiLive } from "./MappingsApi"
import { ProviderSettings, ResealOnStart } from "./ProviderSettings"
import { RefreshOnActivation } from "./RefreshOnActivation"

const ApiLive = HttpApiBuilder.api(RegistryApi).pipe(
  Layer.provide([HealthApiLive, CodeApiLive, AssetsApiLive, MappingsApiLive, CatalogApiLive])
)

/** The Registry with the given built-in provider sources (see node/bundleBuiltins.ts). */
export const makeApp = (builtins: Layer.Layer<BuiltinSources>) =>
  Layer.mergeAll(
    HttpService.layer(RegistryApi, ApiLive),
    BuiltinRegistration,
    RefreshOnActivation,
    ResealOnStart
  ).pipe(
    Layer.provide(builtins),
    Layer.provide([CodeRegistry.layer, ProviderSettings.layer]),
    Layer.provide(CodeRepo.layer),
    // Daily asset refresh fibers; also provides AssetsRepo to whatever calls refreshAssets.
    Layer.provide(AssetRefresh.layer),
    Layer.provide(DataHubClient.layer),
    Layer.provide(Health.layer("registry")),
    Layer.provideMerge(ChangeFeed.layer(REGISTRY_SCHEMA)),
    Layer.provideMerge(SchemaState.layer(registryMigrations, { schema: REGISTRY_SCHEMA }))
  )

/** Without built-in providers: tests start from an empty registry. */
export const RegistryLive = makeApp(BuiltinSources.none)
