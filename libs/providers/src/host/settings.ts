/**
 * Checks stored setting values against a provider's settings spec and applies its defaults.
 * Every problem is reported at once so an operator can fix a form in one pass.
 */
import { settingValueProblem } from "@quasar/domain"
import { Either } from "effect"
import type { SettingsSpec, SettingsValues } from "../sdk/types"

export type SettingValue = string | number | boolean

/** Values as stored or typed in a form; `null`, `undefined` and "" mean "not given". */
export type RawSettings = Readonly<Record<string, SettingValue | null | undefined>>

export interface SettingsProblem {
  readonly setting: string
  readonly message: string
}

const isGiven = (value: SettingValue | null | undefined): value is SettingValue =>
  value !== undefined && value !== null && value !== ""

/**
 * The typed settings a provider receives, or every problem found (missing required, wrong
 * type, bad URL, a number out of bounds). Keys the spec does not know are dropped, not refused: stored settings may
 * outlive the provider version that defined them.
 */
export const resolveSettings = <S extends SettingsSpec>(
  spec: S,
  values: RawSettings
): Either.Either<SettingsValues<S>, ReadonlyArray<SettingsProblem>> => {
  const resolved: Record<string, SettingValue> = {}
  const problems: Array<SettingsProblem> = []
  for (const [setting, settingSpec] of Object.entries(spec)) {
    const given = values[setting]
    const value = isGiven(given) ? given : settingSpec.default
    if (value === undefined) {
      if (settingSpec.required) problems.push({ setting, message: "is required" })
      continue
    }
    const problem = settingValueProblem(settingSpec, value)
    if (problem) problems.push({ setting, message: problem })
    else resolved[setting] = value
  }
  return problems.length > 0 ? Either.left(problems) : Either.right(resolved as SettingsValues<S>)
}

export const formatSettingsProblems = (problems: ReadonlyArray<SettingsProblem>): string =>
  problems.map((p) => `${p.setting} ${p.message}`).join("; ")
