import { HttpApi, OpenApi } from "@effect/platform"
import { HealthGroup } from "./HealthApi"

/** Registry (port 8080): provider and broker code, assets, asset mappings. */
export class RegistryApi extends HttpApi.make("registry")
  .add(HealthGroup)
  .annotate(OpenApi.Title, "Quasar Registry")
  .annotate(OpenApi.Description, "Provider and broker code, assets and asset mappings") {}
