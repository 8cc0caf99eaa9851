/** Everything the Registry runs, given an HTTP server, a database and its configuration. */
import { HttpApiBuilder } from "@effect/platform"
import { RegistryApi } from "@quasar/domain"
import { migrations } from "@quasar/migrations"
import { ChangeFeed, Health, HttpService, SchemaState } from "@quasar/server"
import { Layer } from "effect"
import { AdminAuthLive } from "./AdminAuth"
import * as AssetRefresh from "./AssetRefresh"
import { AssetsApiLive } from "./AssetsApi"
import { CodeApiLive } from "./CodeApi"
import { CodeRegistry } from "./CodeRegistry"
import { CodeRepo } from "./CodeRepo"
import { ProviderSettings } from "./ProviderSettings"
import * as DataHubClient from "./DataHubClient"
import { HealthApiLive } from "./HealthApi"
import { MappingsApiLive } from "./MappingsApi"

const ApiLive = HttpApiBuilder.api(RegistryApi).pipe(
  Layer.provide([HealthApiLive, CodeApiLive, AssetsApiLive, MappingsApiLive]),
  Layer.provide(AdminAuthLive)
)

export const AppLive = HttpService.layer(ApiLive).pipe(
  Layer.provide([CodeRegistry.layer, ProviderSettings.layer]),
  Layer.provide(CodeRepo.layer),
  // Daily asset refresh fibers; also provides AssetsRepo to whatever calls refreshAssets.
  Layer.provide(AssetRefresh.layer),
  Layer.provide(DataHubClient.layer),
  Layer.provide(Health.layer("registry")),
  Layer.provideMerge(ChangeFeed.layer),
  Layer.provideMerge(SchemaState.layer(migrations))
)
