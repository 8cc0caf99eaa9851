/**
 * What DataHub reads of the Registry to collect and serve bars: a provider's code, its settings
 * with secrets opened, its assets, the mappings, and a change counter to wait on. Internal
 * (service credential only): the opened settings never leave the services' own network, so only
 * the Registry needs QUASAR_SECRET_KEY.
 */
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { AssetClass } from "./Asset"
import { ServiceAuth } from "./Auth"
import { BodyPolicy } from "./BodyPolicy"
import { SettingValue } from "./CodeApi"
import { CodeKind, CodeLanguage, CodeManifest, CodeStatus } from "./CodeVersion"
import { ProviderName, SerialId } from "./Common"
import { NotFound, ServiceUnavailable } from "./Errors"

/** One version of a name's code as DataHub runs it; `manifest` is null when it never validated. */
export const CatalogCode = Schema.Struct({
  name: ProviderName,
  version: Schema.Int.pipe(Schema.positive()),
  kind: CodeKind,
  status: CodeStatus,
  language: CodeLanguage,
  manifest: Schema.NullOr(CodeManifest),
  source: Schema.String
}).annotations({ identifier: "CatalogCode" })
export type CatalogCode = typeof CatalogCode.Type

/**
 * A provider's stored settings with its secrets opened (defaults are the manifest's, applied by
 * whoever runs it). A secret that does not open is named in `unopened` with the reason.
 */
export const OpenedSettings = Schema.Struct({
  name: ProviderName,
  values: Schema.Record({ key: Schema.String, value: SettingValue }),
  unopened: Schema.Array(Schema.Struct({ key: Schema.String, message: Schema.String }))
}).annotations({ identifier: "OpenedSettings" })
export type OpenedSettings = typeof OpenedSettings.Type

/** What DataHub needs of one listed asset: that the symbol exists, and its class (gap rules). */
export const CatalogAsset = Schema.Struct({
  symbol: Schema.String,
  assetClass: AssetClass
}).annotations({ identifier: "CatalogAsset" })
export type CatalogAsset = typeof CatalogAsset.Type

/** A provider symbol mapped to a common symbol. */
export const CatalogMapping = Schema.Struct({
  commonSymbol: Schema.String,
  provider: Schema.String,
  symbol: Schema.String
}).annotations({ identifier: "CatalogMapping" })
export type CatalogMapping = typeof CatalogMapping.Type

/** What a change touched: a name's code or settings, a provider's assets, or the mappings. */
export const CatalogChange = Schema.Struct({
  topic: Schema.Literal("code", "assets", "mappings"),
  /** The code's or the provider's name; absent for mappings. */
  name: Schema.optional(Schema.String)
}).annotations({ identifier: "CatalogChange" })
export type CatalogChange = typeof CatalogChange.Type

/**
 * The answer to a wait for changes: the counter to wait from next, the changes after the one
 * asked for, and `reset` when those cannot be told (the counter went back, or events were
 * pruned): the caller then forgets everything it cached.
 */
export const CatalogChanges = Schema.Struct({
  cursor: Schema.Int.pipe(Schema.nonNegative()),
  reset: Schema.Boolean,
  changes: Schema.Array(CatalogChange)
}).annotations({ identifier: "CatalogChanges" })
export type CatalogChanges = typeof CatalogChanges.Type

/**
 * The longest a wait for changes is held open before it answers with none. A graceful drain
 * keeps accepting for up to 1 s and waits at most 6 s in all, so a wait started during it still
 * ends in time and never holds up the Registry's shutdown.
 */
export const MAX_CATALOG_WAIT_MS = 3_000

const name = HttpApiSchema.param("name", ProviderName)
const version = HttpApiSchema.param("version", Schema.NumberFromString.pipe(Schema.compose(SerialId)))

export class CatalogGroup extends HttpApiGroup.make("catalog")
  .add(
    HttpApiEndpoint.get("changes", "/internal/catalog/changes")
      .setUrlParams(
        Schema.Struct({
          /** Omitted on a first call: answers at once with the current counter and `reset`. */
          after: Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.nonNegative())),
          waitMs: Schema.optional(
            Schema.NumberFromString.pipe(Schema.int(), Schema.between(0, MAX_CATALOG_WAIT_MS))
          )
        })
      )
      .addSuccess(CatalogChanges)
      .addError(ServiceUnavailable)
      .annotate(
        OpenApi.Description,
        "Changes after `after`, answered as soon as there are any or after `waitMs` (long poll)"
      )
  )
  .add(
    HttpApiEndpoint.get("current")`/internal/catalog/code/${name}`
      .addSuccess(CatalogCode)
      .addError(NotFound)
      .addError(ServiceUnavailable)
      .annotate(
        OpenApi.Description,
        "The current version of a name (active or disabled), else its newest; 404 when it has no code"
      )
  )
  .add(
    HttpApiEndpoint.get("version")`/internal/catalog/code/${name}/${version}`
      .addSuccess(CatalogCode)
      .addError(NotFound)
      .addError(ServiceUnavailable)
      .annotate(OpenApi.Description, "One version of a name's code")
  )
  .add(
    HttpApiEndpoint.get("settings")`/internal/catalog/settings/${name}`
      .addSuccess(OpenedSettings)
      .addError(ServiceUnavailable)
      .annotate(OpenApi.Description, "A provider's settings with its secrets opened")
  )
  .add(
    HttpApiEndpoint.get("providers", "/internal/catalog/providers")
      .addSuccess(Schema.Array(Schema.String))
      .addError(ServiceUnavailable)
      .annotate(OpenApi.Description, "Every name that has code or listed assets")
  )
  .add(
    HttpApiEndpoint.get("assets")`/internal/catalog/assets/${name}`
      .addSuccess(Schema.Array(CatalogAsset))
      .addError(ServiceUnavailable)
      .annotate(OpenApi.Description, "A provider's listed assets (delisted ones too): symbol and class")
  )
  .add(
    HttpApiEndpoint.get("mappings", "/internal/catalog/mappings")
      .addSuccess(Schema.Array(CatalogMapping))
      .addError(ServiceUnavailable)
      .annotate(OpenApi.Description, "Every provider symbol mapped to a common symbol")
  )
  .middleware(BodyPolicy)
  .middleware(ServiceAuth)
  .annotate(
    OpenApi.Description,
    "Internal: what DataHub reads of the Registry's code, settings, assets and mappings. Needs QUASAR_SERVICE_TOKEN"
  ) {}
