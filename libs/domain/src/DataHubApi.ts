import { HttpApi, OpenApi } from "@effect/platform"
import { HealthGroup } from "./HealthApi"
import { SandboxGroup } from "./SandboxApi"

/** DataHub (port 8081): runs provider code, collects and serves bars. */
export class DataHubApi extends HttpApi.make("datahub")
  .add(HealthGroup)
  .add(SandboxGroup)
  .annotate(OpenApi.Title, "Quasar DataHub")
  .annotate(OpenApi.Description, "Subscriptions, collection, live streams and bars") {}
