import { HttpApi, OpenApi } from "@effect/platform"
import { BarsGroup } from "./BarsApi"
import { CodeUsageGroup } from "./CodeUsageApi"
import { CollectionGroup } from "./CollectionApi"
import { HealthGroup } from "./HealthApi"
import { markInternalOperations } from "./Internal"
import { LiveGroup } from "./LiveApi"
import { SandboxGroup } from "./SandboxApi"
import { LiveDemandGroup, SubscriptionsGroup } from "./SubscriptionsApi"

/** DataHub (port 8081): runs provider code, collects and serves bars. */
export class DataHubApi extends HttpApi.make("datahub")
  .add(HealthGroup)
  .add(SandboxGroup)
  .add(CodeUsageGroup)
  .add(SubscriptionsGroup)
  .add(LiveDemandGroup)
  .add(BarsGroup)
  .add(LiveGroup)
  .add(CollectionGroup)
  .annotate(OpenApi.Transform, markInternalOperations)
  .annotate(OpenApi.Title, "Quasar DataHub")
  .annotate(OpenApi.Description, "Subscriptions, collection, live streams and bars") {}
