/**
 * The manifest a module declares, as the domain `Manifest` (or `StrategyManifest`): the SDK's
 * settings (params) record becomes `SettingField[]` (`StrategyParam[]`), key = record key, and
 * capabilities follow the functions present. The child described its export, but it is
 * untrusted, so everything is decoded here.
 */
import {
  type CodeManifest,
  Manifest,
  type SettingField,
  StrategyManifest,
  type ValidationIssue
} from "@quasar/domain"
import { type ParamsSpec, resolveParams } from "@quasar/providers/sdk"
import { Either, ParseResult, Schema } from "effect"
import type { Capability } from "./protocol"

type Issue = typeof ValidationIssue.Type

const SdkSetting = Schema.Struct({
  type: Schema.Literal("string", "number", "boolean", "url"),
  label: Schema.optional(Schema.String),
  description: Schema.optional(Schema.String),
  secret: Schema.optional(Schema.Boolean),
  required: Schema.optional(Schema.Boolean),
  default: Schema.optional(Schema.Union(Schema.String, Schema.Number, Schema.Boolean)),
  min: Schema.optional(Schema.Number),
  max: Schema.optional(Schema.Number)
})

const SdkManifest = Schema.Struct({
  name: Schema.String,
  displayName: Schema.String,
  version: Schema.String,
  kind: Schema.Literal("provider", "broker"),
  timeframes: Schema.Array(Schema.Unknown),
  settings: Schema.Record({ key: Schema.String, value: SdkSetting }),
  publishDelayMs: Schema.optional(Schema.Unknown)
})

const capabilityOf: Record<Capability, Manifest["capabilities"][number]> = {
  listAssets: "assets",
  history: "history",
  live: "live"
}

/** "settings.apiKey.type: …" rather than "settings.0.type": the author knows keys, not indexes. */
const describe = (
  error: ParseResult.ParseError,
  keys: ReadonlyArray<string>,
  record: "settings" | "params" = "settings"
): Array<string> =>
  ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) => {
    const path = issue.path.map((p, i) =>
      i === 1 && issue.path[0] === record && typeof p === "number" ? (keys[p] ?? p) : p
    )
    return path.length > 0
      ? `manifest field ${path.join(".")}: ${issue.message}`
      : `manifest: ${issue.message}`
  })

const defaultProblem = (field: SettingField): string | undefined => {
  if (field.default === undefined) return undefined
  const expected = field.type === "url" ? "string" : field.type
  return typeof field.default === expected
    ? undefined
    : `setting ${field.key}: its default ${JSON.stringify(field.default)} is not a ${field.type}`
}

const SdkStrategy = Schema.Struct({
  kind: Schema.Literal("strategy"),
  params: Schema.Record({ key: Schema.String, value: Schema.Object })
})

const error = (messages: ReadonlyArray<string>) =>
  Either.left(messages.map((message): Issue => ({ severity: "error", message })))

/** A strategy's manifest; its params' defaults checked by the SDK's `resolveParams`, as a run's are. */
const toStrategyManifest = (described: unknown): Either.Either<StrategyManifest, ReadonlyArray<Issue>> => {
  const sdk = Schema.decodeUnknownEither(SdkStrategy)(described, { onExcessProperty: "ignore" })
  if (Either.isLeft(sdk)) return error(describe(sdk.left, [], "params"))
  const keys = Object.keys(sdk.right.params)
  const candidate = {
    ...(described as object),
    params: keys.map((key) => ({ ...sdk.right.params[key], key }))
  }
  const manifest = Schema.decodeUnknownEither(StrategyManifest)(candidate, {
    errors: "all",
    onExcessProperty: "ignore"
  })
  if (Either.isLeft(manifest)) return error(describe(manifest.left, keys, "params"))
  const defaults = resolveParams(sdkParams(manifest.right), {})
  return defaults.ok ? Either.right(manifest.right) : error(defaults.problems.map((p) => `params: ${p}`))
}

/** The params spec in the SDK's shape, for `resolveParams`. */
export const sdkParams = (manifest: StrategyManifest): ParamsSpec =>
  Object.fromEntries(manifest.params.map(({ key, ...spec }) => [key, spec]))

export const toManifest = (
  described: unknown,
  functions: ReadonlyArray<Capability>
): Either.Either<CodeManifest, ReadonlyArray<Issue>> => {
  if (
    typeof described === "object" &&
    described !== null &&
    "kind" in described &&
    described.kind === "strategy"
  )
    return toStrategyManifest(described)
  const sdk = Schema.decodeUnknownEither(SdkManifest)(described, { onExcessProperty: "ignore" })
  if (Either.isLeft(sdk)) return error(describe(sdk.left, []))
  const keys = Object.keys(sdk.right.settings)
  const candidate = {
    name: sdk.right.name,
    displayName: sdk.right.displayName,
    version: sdk.right.version,
    kind: sdk.right.kind,
    capabilities: functions.map((f) => capabilityOf[f]),
    timeframes: sdk.right.timeframes,
    settings: keys.map((key) => ({ key, ...sdk.right.settings[key] })),
    ...(sdk.right.publishDelayMs === undefined ? {} : { publishDelayMs: sdk.right.publishDelayMs })
  }
  const manifest = Schema.decodeUnknownEither(Manifest)(candidate, { errors: "all" })
  if (Either.isLeft(manifest)) return error(describe(manifest.left, keys))
  const defaults = manifest.right.settings.flatMap((f) => defaultProblem(f) ?? [])
  return defaults.length > 0 ? error(defaults) : Either.right(manifest.right)
}

/** The settings spec in the SDK's shape, for `resolveSettings` (host/settings.ts). */
export const sdkSettings = (manifest: Manifest) =>
  Object.fromEntries(manifest.settings.map(({ key, ...spec }) => [key, spec]))
