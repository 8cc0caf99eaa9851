/**
 * Reads the strategy part of a code version's stored manifest: what `defineStrategy` declares
 * besides `onBar`. Decoded from the version's manifest as it arrives, so a manifest recorded by
 * an older validator that lacks a field is refused with the field's name rather than run.
 */
import { Timeframe } from "@quasar/domain"
import { Either, ParseResult, Schema } from "effect"
import type { StrategyManifest } from "./StrategyCatalog"

const Label = { label: Schema.optional(Schema.String), description: Schema.optional(Schema.String) }
const Finite = Schema.Number.pipe(Schema.finite())

const ParamSpec = Schema.Union(
  Schema.Struct({
    type: Schema.Literal("number", "integer"),
    default: Finite,
    min: Schema.optional(Finite),
    max: Schema.optional(Finite),
    ...Label
  }),
  Schema.Struct({ type: Schema.Literal("boolean"), default: Schema.Boolean, ...Label }),
  Schema.Struct({
    type: Schema.Literal("string"),
    default: Schema.String,
    maxLength: Schema.optional(Schema.Int),
    ...Label
  }),
  Schema.Struct({
    type: Schema.Literal("enum"),
    values: Schema.Array(Schema.String),
    default: Schema.String,
    ...Label
  })
)

const StrategyManifestSchema = Schema.Struct({
  version: Schema.optional(Schema.String),
  params: Schema.optionalWith(Schema.Record({ key: Schema.String, value: ParamSpec }), {
    default: () => ({})
  }),
  universe: Schema.Struct({
    timeframe: Timeframe.Timeframe,
    symbols: Schema.Array(
      Schema.Union(Schema.String, Schema.Struct({ provider: Schema.String, symbol: Schema.String }))
    )
  }),
  warmup: Schema.optionalWith(Schema.Int.pipe(Schema.nonNegative()), { default: () => 0 })
})

const decode = Schema.decodeUnknownEither(StrategyManifestSchema)

/** The manifest, or why it is not a strategy's. */
export const strategyManifest = (manifest: unknown): Either.Either<StrategyManifest, string> =>
  Either.mapLeft(decode(manifest), (e) => ParseResult.TreeFormatter.formatErrorSync(e))
