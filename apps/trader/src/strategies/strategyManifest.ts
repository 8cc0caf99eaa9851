/**
 * Reads the strategy part of a code version's stored manifest: what `defineStrategy` declares
 * besides `onBar`. The Registry stores params as an ordered list of `{ key, type, default, … }`
 * (a form keeps the author's order); the SDK's record form is read too. Decoded from the manifest
 * as it arrives, so one that lacks a field is refused with the field's name rather than run.
 */
import { Timeframe } from "@quasar/domain"
import type { ParamSpec as SdkParamSpec } from "@quasar/providers/sdk"
import { Either, ParseResult, Schema } from "effect"
import type { StrategyManifest } from "./StrategyCatalog"

const Label = { label: Schema.optional(Schema.String), description: Schema.optional(Schema.String) }
const Finite = Schema.Number.pipe(Schema.finite())

const specFields = {
  number: {
    type: Schema.Literal("number", "integer"),
    default: Finite,
    min: Schema.optional(Finite),
    max: Schema.optional(Finite),
    ...Label
  },
  boolean: { type: Schema.Literal("boolean"), default: Schema.Boolean, ...Label },
  string: {
    type: Schema.Literal("string"),
    default: Schema.String,
    maxLength: Schema.optional(Schema.Int),
    ...Label
  },
  enum: {
    type: Schema.Literal("enum"),
    values: Schema.Array(Schema.String),
    default: Schema.String,
    ...Label
  }
}

const ParamSpec = Schema.Union(
  Schema.Struct(specFields.number),
  Schema.Struct(specFields.boolean),
  Schema.Struct(specFields.string),
  Schema.Struct(specFields.enum)
)

const Key = { key: Schema.String }
const KeyedParam = Schema.Union(
  Schema.Struct({ ...Key, ...specFields.number }),
  Schema.Struct({ ...Key, ...specFields.boolean }),
  Schema.Struct({ ...Key, ...specFields.string }),
  Schema.Struct({ ...Key, ...specFields.enum })
)

const StrategyManifestSchema = Schema.Struct({
  version: Schema.optional(Schema.String),
  params: Schema.optionalWith(
    Schema.Union(Schema.Array(KeyedParam), Schema.Record({ key: Schema.String, value: ParamSpec })),
    { default: () => ({}) }
  ),
  universe: Schema.Struct({
    timeframe: Timeframe.Timeframe,
    symbols: Schema.Array(
      Schema.Union(Schema.String, Schema.Struct({ provider: Schema.String, symbol: Schema.String }))
    )
  }),
  warmup: Schema.optionalWith(Schema.Int.pipe(Schema.nonNegative()), { default: () => 0 })
})

const decode = Schema.decodeUnknownEither(StrategyManifestSchema)

const paramsRecord = (
  params: typeof StrategyManifestSchema.Type.params
): Readonly<Record<string, SdkParamSpec>> => {
  if (!Array.isArray(params)) return params as Readonly<Record<string, SdkParamSpec>>
  const record: Record<string, SdkParamSpec> = {}
  for (const { key, ...spec } of params as ReadonlyArray<typeof KeyedParam.Type>) record[key] = spec
  return record
}

/** The manifest, or why it is not a strategy's. */
export const strategyManifest = (manifest: unknown): Either.Either<StrategyManifest, string> =>
  Either.map(
    Either.mapLeft(decode(manifest), (e) => ParseResult.TreeFormatter.formatErrorSync(e)),
    (m) => ({ ...m, params: paramsRecord(m.params) })
  )
