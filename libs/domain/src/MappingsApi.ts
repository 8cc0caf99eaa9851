/** Registry: common symbol ↔ provider/broker symbol. */
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { AssetMapping } from "./AssetMapping"
import { AdminAuth } from "./Auth"
import { BodyPolicy, limitBody, MiB } from "./BodyPolicy"
import { MarketSymbol, ProviderName } from "./Common"
import { Conflict, NotFound } from "./Errors"

export const MappingInput = Schema.Struct({
  commonSymbol: MarketSymbol,
  source: ProviderName,
  symbol: MarketSymbol
}).annotations({ identifier: "MappingInput" })
export type MappingInput = typeof MappingInput.Type

export const MappingSuggestion = Schema.Struct({
  commonSymbol: MarketSymbol,
  source: ProviderName,
  symbol: MarketSymbol,
  reason: Schema.String
}).annotations({ identifier: "MappingSuggestion" })

/** 50,000 mappings of 64-character symbols, as JSON or CSV, with room to spare. */
export const MAPPINGS_BODY_LIMIT = 16 * MiB

export const BulkResult = Schema.Struct({
  created: Schema.Int,
  unchanged: Schema.Int,
  conflicts: Schema.Array(Schema.Struct({ mapping: MappingInput, message: Schema.String }))
}).annotations({ identifier: "BulkMappingResult" })

/** One row of an import that cannot be a mapping, with its line in the file. */
export const RowProblem = Schema.Struct({ line: Schema.Int, message: Schema.String })

/**
 * A CSV import refused because of the rows listed (each on one line; the first 100 when there are
 * more, `total` counts them all); nothing of it was applied.
 */
export class InvalidRows extends Schema.TaggedError<InvalidRows>()(
  "InvalidRows",
  { message: Schema.String, rows: Schema.Array(RowProblem), total: Schema.Int },
  HttpApiSchema.annotations({ status: 400 })
) {}

const source = HttpApiSchema.param("source", ProviderName)
/**
 * A symbol as one path segment. Symbols hold "/" (BTC/USD) and the derived client puts path
 * parameters into the URL as they are encoded, so the encoded side is the percent-encoded
 * segment; on the server the router has already percent-decoded it, so decoding takes it as is.
 */
const SymbolSegment = Schema.transform(Schema.String, MarketSymbol, {
  strict: true,
  decode: (segment) => segment,
  encode: (symbol) => encodeURIComponent(symbol)
})
const symbol = HttpApiSchema.param("symbol", SymbolSegment)

export class MappingsGroup extends HttpApiGroup.make("mappings")
  .add(
    HttpApiEndpoint.get("list", "/mappings")
      .setUrlParams(
        Schema.Struct({ commonSymbol: Schema.optional(MarketSymbol), source: Schema.optional(ProviderName) })
      )
      .addSuccess(Schema.Array(AssetMapping))
  )
  .add(
    HttpApiEndpoint.put("upsert", "/mappings")
      .setPayload(MappingInput)
      .addSuccess(AssetMapping)
      .addError(NotFound)
      .addError(Conflict)
      .middleware(AdminAuth)
      .annotate(OpenApi.Description, "Create or change the common symbol of (source, symbol)")
  )
  .add(
    HttpApiEndpoint.del("remove")`/mappings/${source}/${symbol}`
      .addSuccess(Schema.Void)
      .addError(NotFound)
      .middleware(AdminAuth)
  )
  .add(
    HttpApiEndpoint.get("suggestions", "/mappings/suggestions").addSuccess(Schema.Array(MappingSuggestion))
  )
  .add(
    HttpApiEndpoint.post("bulk", "/mappings/bulk")
      .setPayload(Schema.Struct({ mappings: Schema.Array(MappingInput).pipe(Schema.maxItems(50_000)) }))
      .addSuccess(BulkResult)
      .middleware(AdminAuth)
      .pipe(limitBody(MAPPINGS_BODY_LIMIT))
  )
  .add(
    HttpApiEndpoint.get("exportCsv", "/mappings.csv").addSuccess(
      HttpApiSchema.Text({ contentType: "text/csv" })
    )
  )
  .add(
    HttpApiEndpoint.post("importCsv", "/mappings/import")
      .setPayload(HttpApiSchema.Text({ contentType: "text/csv" }))
      .addSuccess(BulkResult)
      .addError(InvalidRows)
      .middleware(AdminAuth)
      .pipe(limitBody(MAPPINGS_BODY_LIMIT))
      .annotate(
        OpenApi.Description,
        "Body: CSV (RFC 4180, text/csv) with the header common_symbol,source,symbol and a mapping per line, " +
          "as GET /mappings.csv writes it. Rows are added like POST /mappings/bulk. A file with any bad row " +
          "imports nothing: the 400 lists every bad row with its line."
      )
  )
  .middleware(BodyPolicy)
  .annotate(OpenApi.Description, "Asset mappings between common symbols and provider/broker symbols") {}
