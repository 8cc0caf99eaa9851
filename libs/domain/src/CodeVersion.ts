import { Either, Schema } from "effect"
import { ProviderName, Timestamp } from "./Common"
import { StrategyManifest } from "./StrategyManifest"
import { settingRulesProblem } from "./settingValue"
import { Timeframe } from "./Timeframe"

export const CodeKind = Schema.Literal("provider", "broker", "strategy")
export type CodeKind = typeof CodeKind.Type

/** The kinds that run against a venue (market data, orders): they have settings, assets and mappings. */
export const VenueKind = Schema.Literal("provider", "broker")
export type VenueKind = typeof VenueKind.Type

/** uploaded → valid | invalid; a valid version can become active; a provider can be disabled. */
export const CodeStatus = Schema.Literal("uploaded", "valid", "invalid", "active", "disabled")
export type CodeStatus = typeof CodeStatus.Type

const Finite = Schema.Number.pipe(Schema.finite())

/**
 * One setting a provider accepts; secrets are encrypted at rest and never returned. A number
 * setting may bound its values (`min`, `max`, inclusive): saving a value outside them is refused.
 */
export const SettingField = Schema.Struct({
  key: Schema.String.pipe(Schema.pattern(/^[a-zA-Z][a-zA-Z0-9_]{0,63}$/)),
  type: Schema.Literal("string", "number", "boolean", "url"),
  label: Schema.optional(Schema.String),
  description: Schema.optional(Schema.String),
  secret: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  required: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  default: Schema.optional(Schema.Union(Schema.String, Schema.Number, Schema.Boolean)),
  min: Schema.optional(Finite),
  max: Schema.optional(Finite)
})
  .pipe(Schema.filter((field) => settingRulesProblem(field)))
  .annotations({ identifier: "SettingField" })
export type SettingField = typeof SettingField.Type

export const CodeLanguage = Schema.Literal("javascript", "typescript")
export type CodeLanguage = typeof CodeLanguage.Type

export const Capability = Schema.Literal("assets", "history", "live")

/** What a provider or broker module declares about itself. */
export const Manifest = Schema.Struct({
  name: ProviderName,
  displayName: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(100)),
  version: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(32)),
  kind: VenueKind,
  capabilities: Schema.Array(Capability),
  timeframes: Schema.Array(Timeframe),
  settings: Schema.Array(SettingField),
  /** How long after a bar closes the provider has it, ms (EODHD daily: hours). */
  publishDelayMs: Schema.optional(Schema.Number.pipe(Schema.between(0, 7 * 86_400_000)))
}).annotations({ identifier: "Manifest" })
export type Manifest = typeof Manifest.Type

/** What any uploaded module declares: a provider's or broker's manifest, or a strategy's (by `kind`). */
export const CodeManifest = Schema.Union(Manifest, StrategyManifest).annotations({
  identifier: "CodeManifest"
})
export type CodeManifest = typeof CodeManifest.Type

export const ValidationIssue = Schema.Struct({
  severity: Schema.Literal("error", "warning"),
  message: Schema.String,
  line: Schema.optional(Schema.Int),
  column: Schema.optional(Schema.Int)
})

export const ValidationReport = Schema.Struct({
  ok: Schema.Boolean,
  issues: Schema.Array(ValidationIssue),
  durationMs: Schema.Number,
  checkedAt: Timestamp
}).annotations({ identifier: "ValidationReport" })
export type ValidationReport = typeof ValidationReport.Type

/** One uploaded version of provider, broker or strategy code; unique (name, version) and (name, sha256). */
export class CodeVersion extends Schema.Class<CodeVersion>("CodeVersion")({
  name: ProviderName,
  kind: CodeKind,
  language: CodeLanguage,
  version: Schema.Int.pipe(Schema.positive()),
  sha256: Schema.String.pipe(Schema.pattern(/^[0-9a-f]{64}$/)),
  size: Schema.Int.pipe(Schema.nonNegative()),
  manifest: Schema.NullOr(CodeManifest),
  status: CodeStatus,
  validation: Schema.NullOr(ValidationReport),
  /** Shipped with Quasar and registered on first start. */
  builtIn: Schema.Boolean,
  createdAt: Timestamp
}) {}

/**
 * The version a rollback activates: the newest valid version older than the current (active or
 * disabled) one; or, when there is none, why.
 */
export const rollbackTarget = (versions: ReadonlyArray<CodeVersion>): Either.Either<CodeVersion, string> => {
  const current = versions.find((v) => v.status === "active" || v.status === "disabled")
  if (current === undefined) return Either.left("there is no active version to roll back from")
  const older = versions
    .filter((v) => v.version < current.version && v.status === "valid")
    .toSorted((a, b) => b.version - a.version)[0]
  return older === undefined
    ? Either.left(`there is no valid version older than version ${current.version} to roll back to`)
    : Either.right(older)
}
