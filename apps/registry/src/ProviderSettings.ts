/**
 * Provider settings as users edit them: checked against the settings schema in the manifest of
 * the provider's current (or newest valid) version; secrets sealed with QUASAR_SECRET_KEY and
 * never returned — the view only says which secrets are set.
 */
import { type CodeVersion, InvalidRequest, NotFound, settingValueProblem } from "@quasar/domain"
import { ChangeFeed, ProviderSettingsRepo, SecretBox, ServiceConfig, type SettingValue } from "@quasar/server"
import { Context, Effect, Layer, Option } from "effect"
import { CODE_CHANNEL } from "./CodeRegistry"
import { CodeRepo } from "./CodeRepo"

type Name = CodeVersion["name"]

const make = Effect.gen(function* () {
  const repo = yield* ProviderSettingsRepo
  const code = yield* CodeRepo
  const feed = yield* ChangeFeed.ChangeFeed
  const config = yield* ServiceConfig
  const box = yield* Effect.transposeOption(Option.map(config.secretKey, SecretBox.make))

  const fieldsOf = (name: Name) =>
    Effect.gen(function* () {
      const versions = yield* code.versions(name)
      if (versions.length === 0)
        return yield* Effect.fail(new NotFound({ message: `"${name}" does not exist` }))
      const source =
        versions.find((v) => v.status === "active" || v.status === "disabled") ??
        versions.find((v) => v.status === "valid")
      return source?.manifest?.settings ?? []
    })

  const view = (name: Name) =>
    Effect.gen(function* () {
      yield* fieldsOf(name)
      const stored = yield* repo.read(name)
      return { name, values: { ...stored.values }, secretsSet: Object.keys(stored.secrets).sort() }
    })

  const update = (name: Name, input: Readonly<Record<string, SettingValue | null>>) =>
    Effect.gen(function* () {
      const fields = yield* fieldsOf(name)
      const stored = yield* repo.read(name)
      const values: Record<string, SettingValue> = { ...stored.values }
      const secrets: Record<string, string> = { ...stored.secrets }
      for (const [key, value] of Object.entries(input)) {
        const field = fields.find((f) => f.key === key)
        if (!field)
          return yield* Effect.fail(
            new InvalidRequest({
              field: key,
              message: `"${name}" has no setting "${key}"; its settings are: ${fields.map((f) => f.key).join(", ") || "none"}`
            })
          )
        if (value === null) {
          delete values[key]
          delete secrets[key]
          continue
        }
        const problem = settingValueProblem(field, value)
        if (problem)
          return yield* Effect.fail(
            new InvalidRequest({ field: key, message: `setting "${key}" ${problem}` })
          )
        if (!field.secret) {
          values[key] = value
          continue
        }
        if (Option.isNone(box))
          return yield* Effect.fail(
            new InvalidRequest({
              field: key,
              message: `"${key}" is a secret and QUASAR_SECRET_KEY is not set: set it to store secrets`
            })
          )
        secrets[key] = yield* box.value.seal(String(value))
      }
      yield* repo.write(name, { values, secrets })
      yield* feed.publish(CODE_CHANNEL, { event: "settings", name })
      return yield* view(name)
    }).pipe(Effect.withSpan("ProviderSettings.update", { attributes: { name } }))

  return { view, update } as const
})

export class ProviderSettings extends Context.Tag("@quasar/registry/ProviderSettings")<
  ProviderSettings,
  Effect.Effect.Success<typeof make>
>() {
  static readonly layer = Layer.effect(ProviderSettings, make).pipe(
    Layer.provide([ProviderSettingsRepo.layer, CodeRepo.layer])
  )
}
