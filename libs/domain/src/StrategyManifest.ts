/**
 * What a strategy module declares about itself (`defineStrategy` in the SDK), as the Registry
 * stores it: enough for a UI to render a params form and for Trader to know which bars to read.
 * Params are a list rather than the SDK's record because `jsonb` does not keep key order, and a
 * form should show the fields in the order the author wrote them.
 */
import { Schema } from "effect"
import { MarketSymbol, ProviderName } from "./Common"
import { Timeframe } from "./Timeframe"

const Finite = Schema.Number.pipe(Schema.finite())
/** Bars a strategy may keep per symbol; Trader refuses larger windows. */
export const MAX_STRATEGY_WINDOW = 100_000
const BarCount = Schema.Int.pipe(Schema.between(0, MAX_STRATEGY_WINDOW))

const described = {
  /** The params record's key: what `ctx.params.<key>` reads. */
  key: Schema.String.pipe(Schema.pattern(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/)).annotations({
    description: "letters, digits or '_', not starting with a digit, at most 64 characters"
  }),
  label: Schema.optional(Schema.String.pipe(Schema.maxLength(200))),
  description: Schema.optional(Schema.String.pipe(Schema.maxLength(2_000)))
}

/** One member per `type`, so that decoding picks the member by its type and reports only its errors. */
const NumericParam = <T extends "number" | "integer">(type: T) =>
  Schema.Struct({
    ...described,
    type: Schema.Literal(type),
    default: Finite,
    /** Inclusive bounds. */
    min: Schema.optional(Finite),
    max: Schema.optional(Finite)
  })

const BooleanParam = Schema.Struct({ ...described, type: Schema.Literal("boolean"), default: Schema.Boolean })

const StringParam = Schema.Struct({
  ...described,
  type: Schema.Literal("string"),
  default: Schema.String,
  maxLength: Schema.optional(Schema.Int.pipe(Schema.nonNegative()))
})

const EnumParam = Schema.Struct({
  ...described,
  type: Schema.Literal("enum"),
  values: Schema.Array(Schema.String).pipe(
    Schema.minItems(1),
    Schema.filter((vs) => new Set(vs).size === vs.length || "values must not repeat")
  ),
  default: Schema.String
})

/**
 * One parameter, a form field: its key, type, default and bounds. Whether the default keeps to
 * the bounds is the SDK's `resolveParams` to say (the one check Trader also applies to a run).
 */
export const StrategyParam = Schema.Union(
  NumericParam("number"),
  NumericParam("integer"),
  BooleanParam,
  StringParam,
  EnumParam
)
  // On the union rather than its member: a member's refusal would read as "not that type".
  .pipe(
    Schema.filter((p) =>
      p.type === "number" || p.type === "integer"
        ? p.min !== undefined && p.max !== undefined && p.min > p.max
          ? `min ${p.min} is above max ${p.max}`
          : undefined
        : undefined
    )
  )
  .annotations({ identifier: "StrategyParam" })
export type StrategyParam = typeof StrategyParam.Type

/** A common symbol (resolved through the mappings) or an explicit provider/symbol pair. */
export const UniverseMember = Schema.Union(
  MarketSymbol,
  Schema.Struct({ provider: ProviderName, symbol: MarketSymbol })
)
export type UniverseMember = typeof UniverseMember.Type

/** How a strategy names a member in its code, as the SDK's `universeKey` does. */
const memberKey = (member: UniverseMember): string =>
  typeof member === "string" ? member : `${member.provider}:${member.symbol}`

export const StrategyUniverse = Schema.Struct({
  timeframe: Timeframe,
  symbols: Schema.Array(UniverseMember).pipe(
    Schema.minItems(1),
    Schema.maxItems(1_000),
    Schema.filter((members) => {
      const keys = members.map(memberKey)
      const twice = keys.find((k, i) => keys.indexOf(k) !== i)
      return twice === undefined || `the universe names ${twice} twice`
    })
  )
})

export const StrategyManifest = Schema.Struct({
  kind: Schema.Literal("strategy"),
  name: ProviderName,
  version: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(32)),
  description: Schema.optional(Schema.String.pipe(Schema.maxLength(2_000))),
  params: Schema.Array(StrategyParam).pipe(
    Schema.maxItems(100),
    Schema.filter((params) => {
      const keys = params.map((p) => p.key)
      const twice = keys.find((k, i) => keys.indexOf(k) !== i)
      return twice === undefined || `param ${twice} is declared twice`
    })
  ),
  universe: StrategyUniverse,
  /** Bars each symbol needs before the strategy can act. */
  warmup: BarCount,
  /** Bars kept per symbol in `ctx.window`; the engine's default when absent. */
  window: Schema.optional(BarCount)
})
  .pipe(
    Schema.filter((m) =>
      m.window !== undefined && (m.window < 1 || m.window < m.warmup)
        ? {
            path: ["window"],
            message: `window ${m.window} must be at least 1 and at least warmup (${m.warmup})`
          }
        : undefined
    )
  )
  .annotations({ identifier: "StrategyManifest" })
export type StrategyManifest = typeof StrategyManifest.Type
