/**
 * SQL for `provider_settings`: per-provider values and sealed secrets. Only the Registry reads
 * and writes them; DataHub gets them opened over the internal channel (`CatalogApi`).
 */
import { SqlClient } from "@effect/sql"
import { Context, Effect, Layer, Option } from "effect"

export type SettingValue = string | number | boolean

export interface StoredSettings {
  readonly values: Readonly<Record<string, SettingValue>>
  /** key → sealed envelope */
  readonly secrets: Readonly<Record<string, string>>
}

const empty: StoredSettings = { values: {}, secrets: {} }

const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient

  const read = (name: string) =>
    sql<{ values: Record<string, SettingValue>; secrets: Record<string, string> }>`
      SELECT "values", secrets FROM registry.provider_settings WHERE name = ${name}`.pipe(
      Effect.map((rows) =>
        Option.getOrElse(Option.fromNullable(rows[0] as StoredSettings | undefined), () => empty)
      ),
      Effect.withSpan("ProviderSettingsRepo.read", { attributes: { name } })
    )

  const write = (name: string, settings: StoredSettings) =>
    sql`INSERT INTO registry.provider_settings (name, "values", secrets, updated_at)
        VALUES (${name}, ${JSON.stringify(settings.values)}::jsonb, ${JSON.stringify(settings.secrets)}::jsonb, now())
        ON CONFLICT (name) DO UPDATE SET "values" = excluded."values", secrets = excluded.secrets, updated_at = now()`.pipe(
      Effect.asVoid,
      Effect.withSpan("ProviderSettingsRepo.write", { attributes: { name } })
    )

  return { read, write } as const
})

export class ProviderSettingsRepo extends Context.Tag("@quasar/registry/ProviderSettingsRepo")<
  ProviderSettingsRepo,
  Effect.Effect.Success<typeof make>
>() {
  static readonly layer = Layer.effect(ProviderSettingsRepo, make)
}
