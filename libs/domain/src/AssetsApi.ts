/** Registry: assets each provider offers. */
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { Asset, AssetClass, AssetStatus } from "./Asset"
import { AdminAuth } from "./Auth"
import { BodyPolicy } from "./BodyPolicy"
import { ProviderName } from "./Common"
import { Conflict, NotFound, ServiceUnavailable } from "./Errors"

export const DEFAULT_ASSET_PAGE = 50

export const AssetSearch = Schema.Struct({
  q: Schema.optional(Schema.String.pipe(Schema.maxLength(100))),
  provider: Schema.optional(ProviderName),
  assetClass: Schema.optional(AssetClass),
  exchange: Schema.optional(Schema.String.pipe(Schema.maxLength(64))),
  status: Schema.optional(AssetStatus),
  /** Page size, 1–500 (default 50). */
  limit: Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 500))),
  /** Rows to skip (default 0). */
  offset: Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.between(0, 10_000_000)))
})

export const AssetPage = Schema.Struct({
  items: Schema.Array(Asset),
  total: Schema.Int,
  limit: Schema.Int,
  offset: Schema.Int
}).annotations({ identifier: "AssetPage" })

export const AssetRefresh = Schema.Struct({
  provider: ProviderName,
  listed: Schema.Int,
  upserted: Schema.Int,
  delisted: Schema.Int,
  rejected: Schema.Int
}).annotations({ identifier: "AssetRefresh" })

export class AssetsGroup extends HttpApiGroup.make("assets")
  .add(HttpApiEndpoint.get("search", "/assets").setUrlParams(AssetSearch).addSuccess(AssetPage))
  .add(
    HttpApiEndpoint.post("refresh")`/assets/refresh/${HttpApiSchema.param("provider", ProviderName)}`
      .addSuccess(AssetRefresh)
      .addError(NotFound)
      .addError(Conflict)
      .addError(ServiceUnavailable)
      .middleware(AdminAuth)
      .annotate(
        OpenApi.Description,
        "Ask DataHub to run the active version's listAssets and store the result"
      )
  )
  .middleware(BodyPolicy)
  .annotate(OpenApi.Description, "Assets offered by each provider") {}
