/** DataHub endpoints the Registry calls: run provider code in the sandbox on its behalf. */
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { UploadCode } from "./CodeApi"
import { CodeKind, CodeLanguage, Manifest, ValidationReport } from "./CodeVersion"
import { ProviderName } from "./Common"
import { InvalidRequest, NotFound, ServiceUnavailable } from "./Errors"
import { ProviderAsset } from "./ProviderAsset"

export const ValidateRequest = Schema.Struct({
  name: ProviderName,
  kind: CodeKind,
  language: CodeLanguage,
  source: UploadCode.fields.source
})

export const ValidateResponse = Schema.Struct({
  report: ValidationReport,
  manifest: Schema.NullOr(Manifest)
}).annotations({ identifier: "ValidateResponse" })

export const ListAssetsResponse = Schema.Struct({
  assets: Schema.Array(ProviderAsset),
  rejected: Schema.Int
}).annotations({ identifier: "ListAssetsResponse" })

export class SandboxGroup extends HttpApiGroup.make("sandbox")
  .add(
    HttpApiEndpoint.post("validate", "/sandbox/validate")
      .setPayload(ValidateRequest)
      .addSuccess(ValidateResponse)
      .addError(InvalidRequest)
      .addError(ServiceUnavailable)
      .annotate(OpenApi.Description, "Load a module in the sandbox and check it against the SDK contract")
  )
  .add(
    HttpApiEndpoint.post("listAssets")`/sandbox/${HttpApiSchema.param("name", ProviderName)}/assets`
      .addSuccess(ListAssetsResponse)
      .addError(NotFound)
      .addError(ServiceUnavailable)
      .annotate(OpenApi.Description, "Run the active version's listAssets with its settings")
  )
  .annotate(OpenApi.Description, "Provider code execution on behalf of the Registry") {}
