/**
 * What DataHub tells the Registry about code it runs: whether subscriptions use a provider, asked
 * before a version that runs is deleted. The Registry owns the code, DataHub owns the
 * subscriptions, so the question goes over HTTP (internal, service credential), not into
 * DataHub's tables.
 */
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { ServiceAuth } from "./Auth"
import { BodyPolicy } from "./BodyPolicy"
import { ProviderName } from "./Common"
import { ServiceUnavailable } from "./Errors"

export const CodeUsage = Schema.Struct({
  name: ProviderName,
  /** Subscriptions of any status (paused and failed ones too) that name this provider. */
  subscriptions: Schema.Int.pipe(Schema.nonNegative())
}).annotations({ identifier: "CodeUsage" })
export type CodeUsage = typeof CodeUsage.Type

export class CodeUsageGroup extends HttpApiGroup.make("codeUsage")
  .add(
    HttpApiEndpoint.get("usage")`/internal/code/${HttpApiSchema.param("name", ProviderName)}/usage`
      .addSuccess(CodeUsage)
      .addError(ServiceUnavailable)
      .annotate(OpenApi.Description, "How many subscriptions use a provider's code")
  )
  .middleware(BodyPolicy)
  .middleware(ServiceAuth)
  .annotate(
    OpenApi.Description,
    "Internal: what DataHub runs of the Registry's code. Needs QUASAR_SERVICE_TOKEN"
  ) {}
