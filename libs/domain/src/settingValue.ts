/**
 * The rules for a provider's settings, shared by the Registry (which refuses a bad value with a
 * 400 when settings are saved), the provider host (which checks stored values before a call) and
 * the UI's settings form: each value against its field's type and, for numbers, its bounds.
 */

/** What the rules need of a setting's declaration (the SDK's `SettingSpec`, the manifest's `SettingField`). */
export interface SettingRules {
  readonly type: "string" | "number" | "boolean" | "url"
  readonly min?: number | undefined
  readonly max?: number | undefined
  readonly default?: string | number | boolean | undefined
}

// JSON shows strings quoted (so "720" reads as text) but turns NaN into null; String does not.
const show = (value: unknown): string => (typeof value === "string" ? JSON.stringify(value) : String(value))

/** The range a number setting allows, in words ("at least 100", "between 1 and 720"), or undefined. */
export const settingBounds = (rules: SettingRules): string | undefined =>
  rules.min !== undefined && rules.max !== undefined
    ? `between ${rules.min} and ${rules.max}`
    : rules.min !== undefined
      ? `at least ${rules.min}`
      : rules.max !== undefined
        ? `at most ${rules.max}`
        : undefined

/** Why `value` is not acceptable for a setting with these rules ("must be …, got …"), or undefined. */
export const settingValueProblem = (rules: SettingRules, value: unknown): string | undefined => {
  switch (rules.type) {
    case "number": {
      if (typeof value !== "number" || !Number.isFinite(value))
        return `must be a finite number, got ${show(value)}`
      const outside =
        (rules.min !== undefined && value < rules.min) || (rules.max !== undefined && value > rules.max)
      return outside ? `must be ${settingBounds(rules)}, got ${value}` : undefined
    }
    case "boolean":
      return typeof value === "boolean" ? undefined : `must be true or false, got ${show(value)}`
    case "string":
      return typeof value === "string" ? undefined : `must be text, got ${show(value)}`
    case "url": {
      if (typeof value !== "string") return `must be a URL, got ${show(value)}`
      // URL.canParse is missing from some runtimes the SDK targets; the constructor is everywhere.
      try {
        const { protocol } = new URL(value)
        return ["http:", "https:", "ws:", "wss:"].includes(protocol)
          ? undefined
          : `must be an http(s) or ws(s) URL, got ${protocol}`
      } catch {
        return `must be an absolute URL, got ${show(value)}`
      }
    }
  }
}

/**
 * Why a setting's bounds are inconsistent (bounds on a non-number, min above max, a number
 * default outside them), or undefined.
 */
export const settingRulesProblem = (rules: SettingRules): string | undefined => {
  if (rules.type !== "number" && (rules.min !== undefined || rules.max !== undefined))
    return `min and max apply to number settings only, not to ${rules.type}`
  if (rules.min !== undefined && rules.max !== undefined && rules.min > rules.max)
    return `min ${rules.min} is above max ${rules.max}`
  if (typeof rules.default !== "number") return undefined
  const problem = settingValueProblem(rules, rules.default)
  return problem === undefined ? undefined : `its default ${problem}`
}
