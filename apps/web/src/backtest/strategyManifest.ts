/**
 * What the UI needs from a strategy version's manifest: its params spec (for the form), universe
 * and timeframe (for the price chart and the run's description) and warm-up. Read from the stored
 * manifest as it arrives, so a manifest without a params spec reads as "no parameters".
 */
import type { CodeVersion } from "@quasar/domain"
import type { ParamSpec, ParamsSpec } from "./paramsDraft"

export type UniverseMember = string | { readonly provider: string; readonly symbol: string }

export interface StrategyManifest {
  readonly name: string
  readonly version: string
  readonly params: ParamsSpec
  readonly timeframe: string | null
  readonly universe: ReadonlyArray<UniverseMember>
  readonly warmup: number | null
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null

const get = (u: unknown, key: string): unknown => (isRecord(u) ? u[key] : undefined)
const text = (u: unknown): string | undefined => (typeof u === "string" ? u : undefined)
const numberOr = (u: unknown): number | undefined => (typeof u === "number" ? u : undefined)

const paramSpecOf = (u: unknown): ParamSpec | null => {
  const common = { label: text(get(u, "label")), description: text(get(u, "description")) }
  const type = get(u, "type")
  const def = get(u, "default")
  if ((type === "number" || type === "integer") && typeof def === "number")
    return { type, default: def, min: numberOr(get(u, "min")), max: numberOr(get(u, "max")), ...common }
  if (type === "boolean" && typeof def === "boolean") return { type, default: def, ...common }
  if (type === "string" && typeof def === "string")
    return { type, default: def, maxLength: numberOr(get(u, "maxLength")), ...common }
  const values = get(u, "values")
  if (type === "enum" && typeof def === "string" && Array.isArray(values))
    return { type, default: def, values: values.filter((v) => typeof v === "string"), ...common }
  return null
}

const paramsOf = (u: unknown): ParamsSpec => {
  if (!isRecord(u)) return {}
  const out: Record<string, ParamSpec> = {}
  for (const [key, value] of Object.entries(u)) {
    const spec = paramSpecOf(value)
    if (spec !== null) out[key] = spec
  }
  return out
}

const memberOf = (u: unknown): UniverseMember | null => {
  if (typeof u === "string") return u
  const provider = text(get(u, "provider"))
  const symbol = text(get(u, "symbol"))
  return provider !== undefined && symbol !== undefined ? { provider, symbol } : null
}

/** The strategy part of a version's manifest, or null for a version without one. */
export const strategyManifestOf = (version: CodeVersion): StrategyManifest | null => {
  const m: unknown = version.manifest
  if (!isRecord(m)) return null
  const universe = get(m, "universe")
  const symbols = get(universe, "symbols")
  return {
    name: text(m.name) ?? version.name,
    version: text(m.version) ?? "",
    params: paramsOf(m.params),
    timeframe: text(get(universe, "timeframe")) ?? text(m.timeframe) ?? null,
    universe: (Array.isArray(symbols) ? symbols : []).map(memberOf).filter((x) => x !== null),
    warmup: numberOr(m.warmup) ?? null
  }
}

/** How the strategy names a member (`provider:symbol` for a pair), as in its fills and orders. */
export const memberKey = (member: UniverseMember): string =>
  typeof member === "string" ? member : `${member.provider}:${member.symbol}`
