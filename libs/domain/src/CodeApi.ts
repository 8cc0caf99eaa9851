/** Registry: provider, broker and strategy code — upload, versions, activation, settings. */
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { AdminAuth } from "./Auth"
import { BodyPolicy, limitBody, MiB } from "./BodyPolicy"
import { CodeKind, CodeLanguage, CodeVersion } from "./CodeVersion"
import { ProviderName, SerialId } from "./Common"
import { Conflict, InvalidRequest, NotFound, ServiceUnavailable } from "./Errors"

export const MAX_SOURCE_BYTES = 1_048_576
/** 1 MiB of source is at most 6 MiB of JSON (a control character escapes to `\u00XX`), plus the other fields. */
export const CODE_BODY_LIMIT = 7 * MiB

export const UploadCode = Schema.Struct({
  kind: CodeKind.annotations({
    description: "provider (market data), broker (order execution) or strategy (trading logic)"
  }),
  language: CodeLanguage.annotations({
    description: "javascript, or typescript (type-checked against the SDK when validated)"
  }),
  source: Schema.String.pipe(
    Schema.minLength(1, {
      description:
        "the whole module as text (at most 1 MiB of UTF-8): one ES module whose default export is defineProvider({...}) (or defineBroker, defineStrategy), importing only @quasar/providers/sdk"
    }),
    Schema.filter(
      (s) => new TextEncoder().encode(s).length <= MAX_SOURCE_BYTES || "source is larger than 1 MiB"
    )
  )
}).annotations({
  identifier: "UploadCode",
  description: 'POST /code/{name} body, JSON: {"kind":"provider","language":"typescript","source":"import …"}'
})

export const UploadResult = Schema.Struct({
  version: CodeVersion,
  /** False when identical code was uploaded before: the existing version is returned. */
  created: Schema.Boolean
})

export const CodeSummary = Schema.Struct({
  name: ProviderName,
  kind: CodeKind,
  displayName: Schema.NullOr(Schema.String),
  activeVersion: Schema.NullOr(Schema.Int),
  latestVersion: Schema.Int,
  disabled: Schema.Boolean,
  builtIn: Schema.Boolean
}).annotations({ identifier: "CodeSummary" })

export const SettingValue = Schema.Union(Schema.String, Schema.Number, Schema.Boolean)

/** Settings as the API shows them: secrets are never returned, only whether they are set. */
export const SettingsView = Schema.Struct({
  name: ProviderName,
  values: Schema.Record({ key: Schema.String, value: SettingValue }),
  secretsSet: Schema.Array(Schema.String)
}).annotations({ identifier: "SettingsView" })

export const SettingsInput = Schema.Struct({
  values: Schema.Record({ key: Schema.String, value: Schema.NullOr(SettingValue) })
}).annotations({ description: "null clears a setting (a secret included)" })

const name = HttpApiSchema.param("name", ProviderName)
const version = HttpApiSchema.param("version", Schema.NumberFromString.pipe(Schema.compose(SerialId)))

export class CodeGroup extends HttpApiGroup.make("code")
  .add(HttpApiEndpoint.get("list", "/code").addSuccess(Schema.Array(CodeSummary)))
  .add(
    HttpApiEndpoint.get("versions")`/code/${name}`.addSuccess(Schema.Array(CodeVersion)).addError(NotFound)
  )
  .add(
    HttpApiEndpoint.post("upload")`/code/${name}`
      .setPayload(UploadCode)
      .addSuccess(UploadResult)
      .addError(InvalidRequest)
      .addError(Conflict)
      .addError(ServiceUnavailable)
      .middleware(AdminAuth)
      .pipe(limitBody(CODE_BODY_LIMIT))
      .annotate(
        OpenApi.Description,
        "Upload a module; it becomes version n+1 and is validated in DataHub's sandbox"
      )
  )
  .add(
    HttpApiEndpoint.get("version")`/code/${name}/versions/${version}`
      .addSuccess(CodeVersion)
      .addError(NotFound)
  )
  .add(
    HttpApiEndpoint.get("source")`/code/${name}/versions/${version}/source`
      .addSuccess(HttpApiSchema.Text({ contentType: "text/plain" }))
      .addError(NotFound)
  )
  .add(
    HttpApiEndpoint.post("activate")`/code/${name}/versions/${version}/activate`
      .addSuccess(CodeVersion)
      .addError(NotFound)
      .addError(Conflict)
      .middleware(AdminAuth)
  )
  .add(
    HttpApiEndpoint.del("deleteVersion")`/code/${name}/versions/${version}`
      .addSuccess(Schema.Void)
      .addError(NotFound)
      .addError(Conflict)
      // A running provider version is deleted only once DataHub has said no subscription uses it.
      .addError(ServiceUnavailable)
      .middleware(AdminAuth)
  )
  .add(
    HttpApiEndpoint.post("disable")`/code/${name}/disable`
      .addSuccess(CodeSummary)
      .addError(NotFound)
      .middleware(AdminAuth)
  )
  .add(
    HttpApiEndpoint.post("rollback")`/code/${name}/rollback`
      .addSuccess(CodeVersion)
      .addError(NotFound)
      .addError(Conflict)
      .middleware(AdminAuth)
      .annotate(OpenApi.Description, "Activate the newest valid version older than the active one")
  )
  .add(
    HttpApiEndpoint.get("settings")`/code/${name}/settings`
      .addSuccess(SettingsView)
      .addError(NotFound)
      .addError(Conflict)
      .annotate(OpenApi.Description, "A provider's or broker's settings (strategies have none: 409)")
  )
  .add(
    HttpApiEndpoint.put("updateSettings")`/code/${name}/settings`
      .setPayload(SettingsInput)
      .addSuccess(SettingsView)
      .addError(NotFound)
      .addError(InvalidRequest)
      .addError(Conflict)
      .middleware(AdminAuth)
  )
  .middleware(BodyPolicy)
  .annotate(
    OpenApi.Description,
    "Provider, broker and strategy code: versions, validation, activation, settings"
  ) {}
