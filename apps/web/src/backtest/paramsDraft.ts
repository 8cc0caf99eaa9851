/**
 * A strategy's parameters as a form: the values a run starts from (the manifest's defaults),
 * what is wrong with a typed value (the same rules the Trader applies, so a run is not sent to
 * be refused), and the values to send — only those that differ from the default, so a run's
 * recorded params say what was chosen.
 */
import type { StrategyParam } from "@quasar/domain"

export type ParamValue = number | boolean | string

/** One parameter as a strategy's manifest declares it, in the order the author wrote them. */
export type ParamSpec = StrategyParam
export type ParamsSpec = ReadonlyArray<StrategyParam>

/** What a form field holds: a number input gives "" when empty or not a number. */
export type DraftValue = number | boolean | string

export const defaultsOf = (spec: ParamsSpec): Record<string, DraftValue> =>
  Object.fromEntries(spec.map((p) => [p.key, p.default]))

export const paramLabel = (spec: ParamSpec) => spec.label ?? spec.key

/** The bounds a number parameter keeps to, as the form says them: "2 to 200", "at least 0". */
export const paramBounds = (spec: ParamSpec): string | null => {
  if (spec.type !== "number" && spec.type !== "integer") return null
  const whole = spec.type === "integer" ? "whole number" : "number"
  if (spec.min !== undefined && spec.max !== undefined) return `${whole}, ${spec.min} to ${spec.max}`
  if (spec.min !== undefined) return `${whole}, at least ${spec.min}`
  if (spec.max !== undefined) return `${whole}, at most ${spec.max}`
  return whole
}

/** Why `value` is refused for the parameter, or null. */
export const paramProblem = (spec: ParamSpec, value: DraftValue | undefined): string | null => {
  const name = paramLabel(spec)
  switch (spec.type) {
    case "number":
    case "integer": {
      if (typeof value !== "number" || !Number.isFinite(value)) return `${name} must be a number`
      if (spec.type === "integer" && !Number.isInteger(value)) return `${name} must be a whole number`
      if (spec.min !== undefined && value < spec.min)
        return `${name} must be at least ${spec.min}, got ${value}`
      if (spec.max !== undefined && value > spec.max)
        return `${name} must be at most ${spec.max}, got ${value}`
      return null
    }
    case "boolean":
      return typeof value === "boolean" ? null : `${name} must be true or false`
    case "string":
      if (typeof value !== "string") return `${name} must be text`
      return spec.maxLength !== undefined && value.length > spec.maxLength
        ? `${name} must be at most ${spec.maxLength} characters`
        : null
    case "enum":
      return typeof value === "string" && spec.values.includes(value)
        ? null
        : `${name} must be one of ${spec.values.join(", ")}`
  }
}

export const paramProblems = (
  spec: ParamsSpec,
  draft: Readonly<Record<string, DraftValue>>
): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const p of spec) {
    const problem = paramProblem(p, draft[p.key])
    if (problem !== null) out[p.key] = problem
  }
  return out
}

/** The values that differ from their defaults (call only when there are no problems). */
export const changedParams = (
  spec: ParamsSpec,
  draft: Readonly<Record<string, DraftValue>>
): Record<string, ParamValue> => {
  const out: Record<string, ParamValue> = {}
  for (const p of spec) {
    const value = draft[p.key]
    if (value !== undefined && value !== p.default) out[p.key] = value
  }
  return out
}
