/**
 * What DataHub reads of the Registry's `code_registry` and `provider_settings` to run a
 * provider: its current version, that version's source, and its settings resolved for a call
 * (stored values, defaults, decrypted secrets), checked against the version's own spec.
 */
import { SqlClient } from "@effect/sql"
import { type CodeLanguage, Manifest, NotFound, ProviderFatalError, ServiceUnavailable } from "@quasar/domain"
import { ProviderSettingsRepo, SecretBox, ServiceConfig } from "@quasar/server"
import { Context, Effect, Either, Layer, Option, Schema } from "effect"
import { sdkSettings } from "./manifest"
import type { CallSettings } from "./protocol"
import { formatSettingsProblems, resolveSettings } from "./providerHost"
import { makeSettingsNotices, SETTINGS_REFUSAL } from "./settingsNotices"

export interface ActiveVersion {
  readonly name: string
  readonly version: number
  readonly manifest: Manifest
}

const unavailable = (what: string) => (e: { readonly message: string }) =>
  new ServiceUnavailable({ message: `cannot read ${what} from the database (${e.message}); retry shortly` })

const decodeManifest = Schema.decodeUnknownOption(Manifest)

const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const settingsRepo = yield* ProviderSettingsRepo
  const config = yield* ServiceConfig
  const box = yield* Effect.transposeOption(Option.map(config.secretKey, SecretBox.make))
  const notices = makeSettingsNotices()

  /** The version that runs for `name`, or why none does (404, in words an operator can act on). */
  const current = (name: string): Effect.Effect<ActiveVersion, NotFound | ServiceUnavailable> =>
    sql<{ version: number; status: string; kind: string; manifest: unknown }>`
      SELECT version, status, kind, manifest FROM code_registry WHERE name = ${name}
      ORDER BY (status IN ('active', 'disabled')) DESC, version DESC LIMIT 1`.pipe(
      Effect.mapError(unavailable(`the code registry entry of "${name}"`)),
      Effect.flatMap(([row]) => {
        if (!row)
          return Effect.fail(
            new NotFound({
              message: `no provider or broker named "${name}": upload it to the Registry first`
            })
          )
        if (row.kind === "strategy")
          return Effect.fail(
            new NotFound({
              message: `"${name}" is a strategy, not a provider or broker: strategies run in Trader's backtests and deployments`
            })
          )
        if (row.status === "disabled")
          return Effect.fail(
            new NotFound({
              message: `"${name}" is disabled: activate a version in the Registry to use it again`
            })
          )
        if (row.status !== "active")
          return Effect.fail(
            new NotFound({ message: `"${name}" has no active version: activate a valid one in the Registry` })
          )
        return Option.match(decodeManifest(row.manifest), {
          onNone: () =>
            Effect.fail(
              new NotFound({
                message: `"${name}" v${row.version} is active but has no valid manifest: upload it again to validate it`
              })
            ),
          onSome: (manifest) => Effect.succeed({ name, version: row.version, manifest })
        })
      }),
      Effect.withSpan("ActiveCode.current", { attributes: { name } })
    )

  const source = (name: string, version: number) =>
    sql<{ source: string; language: CodeLanguage }>`
      SELECT source, language FROM code_registry WHERE name = ${name} AND version = ${version}`.pipe(
      Effect.mapError(unavailable(`the source of "${name}" v${version}`)),
      Effect.flatMap(([row]) =>
        row
          ? Effect.succeed(row)
          : Effect.fail(
              new NotFound({ message: `"${name}" v${version} was deleted: activate another version` })
            )
      ),
      Effect.withSpan("ActiveCode.source", { attributes: { name, version } })
    )

  /** Settings for one call, or a fatal error naming every problem (fix them in the Registry). */
  const settings = (
    active: ActiveVersion
  ): Effect.Effect<CallSettings, ProviderFatalError | ServiceUnavailable> =>
    settingsRepo.resolve(active.name, active.manifest.settings, box).pipe(
      Effect.catchTags({
        SqlError: (e) => Effect.fail(unavailable(`the settings of "${active.name}"`)(e)),
        SecretError: (e) => Effect.fail(new ProviderFatalError({ provider: active.name, message: e.message }))
      }),
      Effect.flatMap((values) =>
        Either.match(resolveSettings(sdkSettings(active.manifest), values), {
          onLeft: (problems) =>
            Effect.zipRight(
              notices.problems(active.name, problems),
              Effect.fail(
                new ProviderFatalError({
                  provider: active.name,
                  message: `${SETTINGS_REFUSAL}${formatSettingsProblems(problems)}; fix them in the Registry`
                })
              )
            ),
          onRight: (resolved) => Effect.as(notices.resolved(active.name), resolved as CallSettings)
        })
      ),
      Effect.withSpan("ActiveCode.settings", { attributes: { name: active.name } })
    )

  return { current, source, settings } as const
})

export class ActiveCode extends Context.Tag("@quasar/datahub/ActiveCode")<
  ActiveCode,
  Effect.Effect.Success<typeof make>
>() {
  static readonly layer = Layer.effect(ActiveCode, make).pipe(Layer.provide(ProviderSettingsRepo.layer))
}
