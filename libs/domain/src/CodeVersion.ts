import { Schema } from "effect"
import { ProviderName, Timestamp } from "./Common"
import { Timeframe } from "./Timeframe"

export const CodeKind = Schema.Literal("provider", "broker")
export type CodeKind = typeof CodeKind.Type

/** uploaded → valid | invalid; a valid version can become active; a provider can be disabled. */
export const CodeStatus = Schema.Literal("uploaded", "valid", "invalid", "active", "disabled")
export type CodeStatus = typeof CodeStatus.Type

/** One setting a provider accepts; secrets are encrypted at rest and never returned. */
export const SettingField = Schema.Struct({
  key: Schema.String.pipe(Schema.pattern(/^[a-zA-Z][a-zA-Z0-9_]{0,63}$/)),
  type: Schema.Literal("string", "number", "boolean", "url"),
  label: Schema.optional(Schema.String),
  description: Schema.optional(Schema.String),
  secret: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  required: Schema.optionalWith(Schema.Boolean, { default: () => false }),
  default: Schema.optional(Schema.Union(Schema.String, Schema.Number, Schema.Boolean))
}).annotations({ identifier: "SettingField" })
export type SettingField = typeof SettingField.Type

export const CodeLanguage = Schema.Literal("javascript", "typescript")
export type CodeLanguage = typeof CodeLanguage.Type

export const Capability = Schema.Literal("assets", "history", "live")

/** What a provider or broker module declares about itself. */
export const Manifest = Schema.Struct({
  name: ProviderName,
  displayName: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(100)),
  version: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(32)),
  kind: CodeKind,
  capabilities: Schema.Array(Capability),
  timeframes: Schema.Array(Timeframe),
  settings: Schema.Array(SettingField),
  /** How long after a bar closes the provider has it, ms (EODHD daily: hours). */
  publishDelayMs: Schema.optional(Schema.Number.pipe(Schema.between(0, 7 * 86_400_000)))
}).annotations({ identifier: "Manifest" })
export type Manifest = typeof Manifest.Type

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

/** One uploaded version of provider or broker code; unique (name, version) and (name, sha256). */
export class CodeVersion extends Schema.Class<CodeVersion>("CodeVersion")({
  name: ProviderName,
  kind: CodeKind,
  language: CodeLanguage,
  version: Schema.Int.pipe(Schema.positive()),
  sha256: Schema.String.pipe(Schema.pattern(/^[0-9a-f]{64}$/)),
  size: Schema.Int.pipe(Schema.nonNegative()),
  manifest: Schema.NullOr(Manifest),
  status: CodeStatus,
  validation: Schema.NullOr(ValidationReport),
  /** Shipped with Quasar and registered on first start. */
  builtIn: Schema.Boolean,
  createdAt: Timestamp
}) {}
