import { HttpApi, OpenApi } from "@effect/platform"
import { AssetsGroup } from "./AssetsApi"
import { CatalogGroup } from "./CatalogApi"
import { CodeGroup } from "./CodeApi"
import { HealthGroup } from "./HealthApi"
import { markInternalOperations } from "./Internal"
import { MappingsGroup } from "./MappingsApi"

/** Registry (port 8080): provider and broker code, assets, asset mappings. */
export class RegistryApi extends HttpApi.make("registry")
  .add(HealthGroup)
  .add(CodeGroup)
  .add(AssetsGroup)
  .add(MappingsGroup)
  .add(CatalogGroup)
  .annotate(OpenApi.Transform, markInternalOperations)
  .annotate(OpenApi.Title, "Quasar Registry")
  .annotate(OpenApi.Description, "Provider and broker code, assets and asset mappings") {}
