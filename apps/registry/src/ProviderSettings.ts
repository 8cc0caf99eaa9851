/**
 * Provider settings as users edit them: checked against the settings schema in the manifest of
 * the provider's current (or newest valid) version; secrets sealed with QUASAR_SECRET_KEY, bound
 * to their provider and setting, and never returned — the view only says which secrets are set.
 * At start, secrets still in the v1 envelope are re-sealed as v2 (`ResealOnStart`). The Registry
 * alone holds the key: DataHub gets a provider's secrets opened over the internal channel
 * (`opened`), for the sandbox that runs that provider and nothing else.
 */
import { SqlClient } from "@effect/sql"
import { type CodeVersion, Conflict, InvalidRequest, NotFound, settingValueProblem } from "@quasar/domain"
import { ChangeFeed, SchemaState, SecretBox, ServiceConfig } from "@quasar/server"
import { Context, Effect, Layer, Option, Schedule } from "effect"
import { CODE_CHANNEL } from "./CodeRegistry"
import { CodeRepo } from "./CodeRepo"
import { ProviderSettingsRepo, type SettingValue } from "./ProviderSettingsRepo"

type Name = CodeVersion["name"]

const make = Effect.gen(function* () {
  const repo = yield* ProviderSettingsRepo
  const code = yield* CodeRepo
  const feed = yield* ChangeFeed.ChangeFeed
  const config = yield* ServiceConfig
  const sql = yield* SqlClient.SqlClient
  const box = yield* Effect.transposeOption(Option.map(config.secretKey, SecretBox.make))

  const fieldsOf = (name: Name) =>
    Effect.gen(function* () {
      const versions = yield* code.versions(name)
      if (versions.length === 0)
        return yield* Effect.fail(new NotFound({ message: `"${name}" does not exist` }))
      // Strategies take params per run instead: settings would be a second place to set them.
      if (versions[0]?.kind === "strategy")
        return yield* Effect.fail(
          new Conflict({
            message: `"${name}" is a strategy and has no settings: give its params with each backtest instead`
          })
        )
      const source =
        versions.find((v) => v.status === "active" || v.status === "disabled") ??
        versions.find((v) => v.status === "valid")
      return source?.manifest?.kind === "strategy" ? [] : (source?.manifest?.settings ?? [])
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
        secrets[key] = yield* box.value.seal(String(value), { provider: name, setting: key })
      }
      yield* repo.write(name, { values, secrets })
      yield* feed.publish(CODE_CHANNEL, { event: "settings", name })
      return yield* view(name)
    }).pipe(Effect.withSpan("ProviderSettings.update", { attributes: { name } }))

  /**
   * The stored values and opened secrets of `name`, for DataHub to run it. Without a key the
   * secrets are left out (none could have been stored); one that does not open is named with why.
   */
  const opened = (name: Name) =>
    Effect.gen(function* () {
      const stored = yield* repo.read(name)
      const values: Record<string, SettingValue> = { ...stored.values }
      const unopened: Array<{ key: string; message: string }> = []
      if (Option.isSome(box))
        for (const [key, envelope] of Object.entries(stored.secrets)) {
          const plain = yield* Effect.either(box.value.open(envelope, { provider: name, setting: key }))
          if (plain._tag === "Right") values[key] = plain.right
          else unopened.push({ key, message: plain.left.message })
        }
      return { name, values, unopened }
    }).pipe(Effect.withSpan("ProviderSettings.opened", { attributes: { name } }))

  /**
   * Re-seals every v1 secret as v2, one provider per transaction (its row locked, so a
   * concurrent update is not lost). Idempotent: v2 values are left alone, and a value that does
   * not open with the current key is kept as it is and reported. Returns how many were re-sealed.
   */
  const resealLegacy = Effect.gen(function* () {
    if (Option.isNone(box)) return 0
    const names = yield* sql<{ name: string }>`
      SELECT name FROM registry.provider_settings
      WHERE EXISTS (SELECT 1 FROM jsonb_each_text(secrets) s WHERE s.value LIKE 'v1:%')`
    let resealed = 0
    for (const { name } of names) {
      resealed += yield* sql.withTransaction(
        Effect.gen(function* () {
          const [row] = yield* sql<{ secrets: Record<string, string> }>`
            SELECT secrets FROM registry.provider_settings WHERE name = ${name} FOR UPDATE`
          const secrets = { ...row?.secrets }
          let count = 0
          for (const [key, envelope] of Object.entries(secrets)) {
            if (!SecretBox.isLegacy(envelope)) continue
            const binding = { provider: name, setting: key }
            const plain = yield* Effect.option(box.value.open(envelope, binding))
            if (Option.isNone(plain)) {
              yield* Effect.logError("a v1 secret does not open with QUASAR_SECRET_KEY; left as it is").pipe(
                Effect.annotateLogs(binding)
              )
              continue
            }
            secrets[key] = yield* box.value.seal(plain.value, binding)
            count++
          }
          if (count > 0)
            yield* sql`UPDATE registry.provider_settings SET secrets = ${JSON.stringify(secrets)}::jsonb WHERE name = ${name}`
          return count
        })
      )
    }
    return resealed
  }).pipe(Effect.withSpan("ProviderSettings.resealLegacy"))

  return { view, update, opened, resealLegacy } as const
})

export class ProviderSettings extends Context.Tag("@quasar/registry/ProviderSettings")<
  ProviderSettings,
  Effect.Effect.Success<typeof make>
>() {
  static readonly layer = Layer.effect(ProviderSettings, make).pipe(
    Layer.provide([ProviderSettingsRepo.layer, CodeRepo.layer])
  )
}

/** Re-seals v1 secrets once the schema is ready, retrying while the database is unavailable. */
export const ResealOnStart = Layer.scopedDiscard(
  Effect.gen(function* () {
    const settings = yield* ProviderSettings
    const schema = yield* SchemaState.SchemaState
    yield* schema.ready.pipe(
      Effect.zipRight(settings.resealLegacy),
      Effect.tap((n) =>
        n > 0
          ? Effect.logInfo("provider secrets re-sealed as v2").pipe(Effect.annotateLogs({ resealed: n }))
          : Effect.void
      ),
      Effect.tapError((e) =>
        Effect.logWarning("cannot re-seal provider secrets yet; retrying").pipe(
          Effect.annotateLogs({ error: e.message })
        )
      ),
      Effect.retry(Schedule.spaced("10 seconds")),
      Effect.forkScoped
    )
  })
)
