/**
 * Per-provider settings (`provider_settings`). The Registry writes them; DataHub reads and
 * decrypts them to hand to the sandbox that runs that provider, and to nothing else.
 */
import { SqlClient } from "@effect/sql"
import { Context, Effect, Layer, Option } from "effect"
import type * as SecretBox from "./SecretBox"

export type SettingValue = string | number | boolean

export interface StoredSettings {
  readonly values: Readonly<Record<string, SettingValue>>
  /** key → sealed envelope */
  readonly secrets: Readonly<Record<string, string>>
}

export interface SettingSpecLike {
  readonly key: string
  readonly secret: boolean
  readonly default?: SettingValue | undefined
}

const empty: StoredSettings = { values: {}, secrets: {} }

const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient

  const read = (name: string) =>
    sql<{ values: Record<string, SettingValue>; secrets: Record<string, string> }>`
      SELECT "values", secrets FROM provider_settings WHERE name = ${name}`.pipe(
      Effect.map((rows) =>
        Option.getOrElse(Option.fromNullable(rows[0] as StoredSettings | undefined), () => empty)
      ),
      Effect.withSpan("ProviderSettingsRepo.read", { attributes: { name } })
    )

  const write = (name: string, settings: StoredSettings) =>
    sql`INSERT INTO provider_settings (name, "values", secrets, updated_at)
        VALUES (${name}, ${JSON.stringify(settings.values)}::jsonb, ${JSON.stringify(settings.secrets)}::jsonb, now())
        ON CONFLICT (name) DO UPDATE SET "values" = excluded."values", secrets = excluded.secrets, updated_at = now()`.pipe(
      Effect.asVoid,
      Effect.withSpan("ProviderSettingsRepo.write", { attributes: { name } })
    )

  /** Plain values for running the provider: defaults, then stored values, then decrypted secrets. */
  const resolve = (
    name: string,
    spec: ReadonlyArray<SettingSpecLike>,
    box: Option.Option<SecretBox.SecretBox>
  ) =>
    Effect.gen(function* () {
      const stored = yield* read(name)
      const out: Record<string, SettingValue> = {}
      for (const field of spec) if (field.default !== undefined) out[field.key] = field.default
      Object.assign(out, stored.values)
      for (const [key, envelope] of Object.entries(stored.secrets)) {
        if (Option.isNone(box)) continue
        out[key] = yield* box.value.open(envelope, { provider: name, setting: key })
      }
      return out
    })

  return { read, write, resolve } as const
})

export class ProviderSettingsRepo extends Context.Tag("@quasar/server/ProviderSettingsRepo")<
  ProviderSettingsRepo,
  Effect.Effect.Success<typeof make>
>() {
  static readonly layer = Layer.effect(ProviderSettingsRepo, make)
}
