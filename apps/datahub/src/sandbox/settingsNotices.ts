/**
 * A provider whose settings are missing or invalid cannot run any call, and every collection or
 * live loop that uses it finds out on its own. The operator needs to hear it once, at warn, with
 * what to set: this says it the first time for a provider and again only when the problems
 * change (or come back after they were fixed).
 */
import { Effect } from "effect"
import type { SettingsProblem } from "./providerHost"
import { formatSettingsProblems } from "./providerHost"

/** The message a settings refusal starts with (here and in the in-process host). */
export const SETTINGS_REFUSAL = "invalid settings: "

/** Whether a provider error is a refusal for missing or invalid settings. */
export const isSettingsRefusal = (error: { readonly _tag: string; readonly message: string }): boolean =>
  error._tag === "ProviderFatalError" && error.message.includes(SETTINGS_REFUSAL)

export const makeSettingsNotices = () => {
  const reported = new Map<string, string>()

  /** Logs `problems` of `provider` at warn unless exactly these were the last ones reported. */
  const problems = (provider: string, found: ReadonlyArray<SettingsProblem>) =>
    Effect.suspend(() => {
      const text = formatSettingsProblems(found)
      if (reported.get(provider) === text) return Effect.void
      reported.set(provider, text)
      const settings = [...new Set(found.map((p) => p.setting))].join(", ")
      return Effect.logWarning(
        `provider "${provider}" cannot run until its settings are fixed: set ${settings} in the Registry`
      ).pipe(Effect.annotateLogs({ provider, settings, problems: text }))
    })

  /** The provider's settings resolved: a later problem is news again. */
  const resolved = (provider: string) => Effect.sync(() => reported.delete(provider))

  return { problems, resolved } as const
}
