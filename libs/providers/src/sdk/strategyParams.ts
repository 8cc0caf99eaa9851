import type { ParamSpec, ParamsSpec } from "./strategy"

export type ParamValue = number | boolean | string

export type ResolvedParams =
  | { readonly ok: true; readonly values: Readonly<Record<string, ParamValue>> }
  | { readonly ok: false; readonly problems: ReadonlyArray<string> }

const problemOf = (name: string, spec: ParamSpec, value: unknown): string | undefined => {
  switch (spec.type) {
    case "number":
    case "integer": {
      if (typeof value !== "number" || !Number.isFinite(value)) return `${name} must be a finite number`
      if (spec.type === "integer" && !Number.isInteger(value)) return `${name} must be a whole number`
      if (spec.min !== undefined && value < spec.min)
        return `${name} must be at least ${spec.min} (got ${value})`
      if (spec.max !== undefined && value > spec.max)
        return `${name} must be at most ${spec.max} (got ${value})`
      return undefined
    }
    case "boolean":
      return typeof value === "boolean" ? undefined : `${name} must be true or false`
    case "string":
      if (typeof value !== "string") return `${name} must be a string`
      if (spec.maxLength !== undefined && value.length > spec.maxLength)
        return `${name} must be at most ${spec.maxLength} characters`
      return undefined
    case "enum":
      return typeof value === "string" && spec.values.includes(value)
        ? undefined
        : `${name} must be one of ${spec.values.map((v) => JSON.stringify(v)).join(", ")}`
  }
}

/**
 * The parameter values a run uses: the given ones checked against the spec, defaults for the
 * rest. Unknown names are refused rather than ignored, since a misspelt parameter would otherwise
 * silently run with its default.
 */
export const resolveParams = (spec: ParamsSpec, given: Readonly<Record<string, unknown>>): ResolvedParams => {
  const problems: Array<string> = []
  const values: Record<string, ParamValue> = {}
  for (const name of Object.keys(given))
    if (!Object.hasOwn(spec, name))
      problems.push(
        `unknown parameter ${JSON.stringify(name)}; known: ${Object.keys(spec).join(", ") || "none"}`
      )
  for (const [name, paramSpec] of Object.entries(spec)) {
    const value = Object.hasOwn(given, name) ? given[name] : paramSpec.default
    const problem = problemOf(name, paramSpec, value)
    if (problem === undefined) values[name] = value as ParamValue
    else problems.push(Object.hasOwn(given, name) ? problem : `the default of ${problem}`)
  }
  return problems.length === 0 ? { ok: true, values } : { ok: false, problems }
}
