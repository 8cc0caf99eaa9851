/** Handlers of the `code` group: each maps an endpoint to the code registry or settings. */
import { HttpApiBuilder } from "@effect/platform"
import { NotFound, RegistryApi } from "@quasar/domain"
import { orDieOnSql } from "@quasar/server"
import { Effect, Option } from "effect"
import { CodeRegistry, toSummary } from "./CodeRegistry"
import { CodeRepo } from "./CodeRepo"
import { ProviderSettings } from "./ProviderSettings"

export const CodeApiLive = HttpApiBuilder.group(RegistryApi, "code", (handlers) =>
  Effect.gen(function* () {
    const registry = yield* CodeRegistry
    const repo = yield* CodeRepo
    const settings = yield* ProviderSettings
    const db = orDieOnSql

    return handlers
      .handle("list", () => db(repo.summaries).pipe(Effect.map((rows) => rows.map(toSummary))))
      .handle("versions", ({ path }) =>
        db(repo.versions(path.name)).pipe(
          Effect.filterOrFail(
            (v) => v.length > 0,
            () => new NotFound({ message: `"${path.name}" does not exist` })
          )
        )
      )
      .handle("upload", ({ path, payload }) => db(registry.upload(path.name, payload)))
      .handle("version", ({ path }) => db(registry.versionOf(path.name, path.version)))
      .handle("source", ({ path }) =>
        db(repo.source(path.name, path.version)).pipe(
          Effect.flatMap(
            Option.match({
              onNone: () =>
                Effect.fail(
                  new NotFound({ message: `version ${path.version} of "${path.name}" does not exist` })
                ),
              onSome: Effect.succeed
            })
          )
        )
      )
      .handle("activate", ({ path }) => db(registry.activate(path.name, path.version)))
      .handle("deleteVersion", ({ path }) => db(registry.deleteVersion(path.name, path.version)))
      .handle("disable", ({ path }) => db(registry.disable(path.name)))
      .handle("rollback", ({ path }) => db(registry.rollback(path.name)))
      .handle("settings", ({ path }) => db(settings.view(path.name)))
      .handle("updateSettings", ({ path, payload }) => db(settings.update(path.name, payload.values)))
  })
)
