/**
 * DataHub's internal endpoints the Registry calls: run provider code in the sandbox on its
 * behalf. They load uploaded code and call providers with their decrypted secrets, so they sit
 * under `/internal/` (never routed by Nginx) and need the service credential (`ServiceAuth`).
 */
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { ServiceAuth } from "./Auth"
import { BodyPolicy, limitBody } from "./BodyPolicy"
import { CODE_BODY_LIMIT, UploadCode } from "./CodeApi"
import { CodeKind, CodeLanguage, CodeManifest, ValidationReport } from "./CodeVersion"
import { ProviderName } from "./Common"
import { InvalidRequest, NotFound, ServiceUnavailable } from "./Errors"
import { INTERNAL_PREFIX } from "./Internal"
import { ProviderAsset } from "./ProviderAsset"

export const ValidateRequest = Schema.Struct({
  name: ProviderName,
  kind: CodeKind,
  language: CodeLanguage,
  source: UploadCode.fields.source
})

export const ValidateResponse = Schema.Struct({
  report: ValidationReport,
  manifest: Schema.NullOr(CodeManifest)
}).annotations({ identifier: "ValidateResponse" })

export const ListAssetsResponse = Schema.Struct({
  assets: Schema.Array(ProviderAsset),
  rejected: Schema.Int
}).annotations({ identifier: "ListAssetsResponse" })

export class SandboxGroup extends HttpApiGroup.make("sandbox")
  .add(
    HttpApiEndpoint.post("validate", `${INTERNAL_PREFIX}/sandbox/validate`)
      .setPayload(ValidateRequest)
      .addSuccess(ValidateResponse)
      .addError(InvalidRequest)
      .addError(ServiceUnavailable)
      .pipe(limitBody(CODE_BODY_LIMIT))
      .annotate(OpenApi.Description, "Load a module in the sandbox and check it against the SDK contract")
  )
  .add(
    HttpApiEndpoint.post("listAssets")`/internal/sandbox/${HttpApiSchema.param("name", ProviderName)}/assets`
      .addSuccess(ListAssetsResponse)
      .addError(NotFound)
      .addError(ServiceUnavailable)
      .annotate(OpenApi.Description, "Run the active version's listAssets with its settings")
  )
  .middleware(BodyPolicy)
  .middleware(ServiceAuth)
  .annotate(
    OpenApi.Description,
    "Internal: provider code execution on behalf of the Registry. Needs QUASAR_SERVICE_TOKEN; not routed by Nginx"
  ) {}
