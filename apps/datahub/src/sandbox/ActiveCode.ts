/**
 * What DataHub needs of the Registry to run a provider: its current version, that version's
 * source, and its settings resolved for a call (the manifest's defaults, then the stored values
 * and secrets the Registry opened for it), checked against the version's own spec. All of it
 * comes from the RegistryCatalog, so it keeps working from the cache while the Registry is down.
 */
import {
  type CodeLanguage,
  type Manifest,
  NotFound,
  ProviderFatalError,
  type ServiceUnavailable
} from "@quasar/domain"
import { Clock, Context, Deferred, Effect, Either, Layer, Option } from "effect"
import { RegistryCatalog } from "../catalog/RegistryCatalog"
import { sdkSettings } from "./manifest"
import type { CallSettings } from "./protocol"
import { formatSettingsProblems, resolveSettings } from "./providerHost"
import { makeSettingsNotices, SETTINGS_REFUSAL } from "./settingsNotices"

/** Least time between two asks of the Registry for one name's refused version. */
const ASK_AGAIN_MS = 1_000
/** Past this many names asked about, the asks older than a second are forgotten. */
const FORGET_ASKS_ABOVE = 1_000

export interface ActiveVersion {
  readonly name: string
  readonly version: number
  readonly manifest: Manifest
}

const make = Effect.gen(function* () {
  const catalog = yield* RegistryCatalog
  const notices = makeSettingsNotices()

  /** Each name's latest ask of the Registry (made, or waiting for its turn), and its end. */
  const asks = new Map<string, { readonly at: number; readonly done: Deferred.Deferred<void> }>()

  /**
   * An ask of the Registry for `name` made after `since`: shared by everyone who needs
   * one, at most one a second per name (a flood of requests naming an inactive provider makes
   * one call a second); a caller inside that second waits for the next ask instead of being
   * refused on the cache alone.
   */
  const askedSince = (name: string, since: number) =>
    Effect.gen(function* () {
      const last = asks.get(name)
      if (last !== undefined && last.at > since) return yield* Deferred.await(last.done)
      const now = yield* Clock.currentTimeMillis
      const at = last === undefined ? now : Math.max(now, last.at + ASK_AGAIN_MS)
      const done = yield* Deferred.make<void>()
      // Names come from requests: forget the asks that no longer hold anyone back.
      if (asks.size >= FORGET_ASKS_ABOVE)
        for (const [key, ask] of asks) if (ask.at < now - ASK_AGAIN_MS) asks.delete(key)
      asks.set(name, { at, done })
      yield* Effect.sleep(at - now).pipe(
        Effect.zipRight(catalog.refresh(name)),
        Effect.ensuring(Deferred.succeed(done, undefined))
      )
    })

  const lookup = (name: string): Effect.Effect<ActiveVersion, NotFound | ServiceUnavailable> =>
    catalog.current(name).pipe(
      Effect.flatMap(
        Option.match({
          onNone: () =>
            Effect.fail(
              new NotFound({
                message: `no provider or broker named "${name}": upload it to the Registry first`
              })
            ),
          onSome: (row) => {
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
                new NotFound({
                  message: `"${name}" has no active version: activate a valid one in the Registry`
                })
              )
            const manifest = row.manifest
            if (manifest === null || manifest.kind === "strategy")
              return Effect.fail(
                new NotFound({
                  message: `"${name}" v${row.version} is active but has no valid manifest: upload it again to validate it`
                })
              )
            return Effect.succeed({ name, version: row.version, manifest })
          }
        })
      )
    )

  /**
   * The version that runs for `name`, or why none does (404, in words an operator can act on).
   * Before it refuses, it asks the Registry again (see `askedSince`): a version activated a moment
   * ago may not have reached DataHub's catalogue through the change feed yet, and whoever
   * activated it and then subscribed must not be told it is not active.
   */
  const current = (name: string): Effect.Effect<ActiveVersion, NotFound | ServiceUnavailable> =>
    Effect.flatMap(Clock.currentTimeMillis, (since) =>
      lookup(name).pipe(
        Effect.catchTag("NotFound", () => Effect.zipRight(askedSince(name, since), lookup(name)))
      )
    ).pipe(Effect.withSpan("ActiveCode.current", { attributes: { name } }))

  const source = (
    name: string,
    version: number
  ): Effect.Effect<
    { readonly source: string; readonly language: CodeLanguage },
    NotFound | ServiceUnavailable
  > =>
    catalog.version(name, version).pipe(
      Effect.flatMap(
        Option.match({
          onNone: () =>
            Effect.fail(
              new NotFound({ message: `"${name}" v${version} was deleted: activate another version` })
            ),
          onSome: (row) => Effect.succeed({ source: row.source, language: row.language })
        })
      ),
      Effect.withSpan("ActiveCode.source", { attributes: { name, version } })
    )

  /** Settings for one call, or a fatal error naming every problem (fix them in the Registry). */
  const settings = (
    active: ActiveVersion
  ): Effect.Effect<CallSettings, ProviderFatalError | ServiceUnavailable> =>
    catalog.settings(active.name).pipe(
      Effect.flatMap(({ values, unopened }) => {
        const [sealed] = unopened
        if (sealed)
          return Effect.fail(new ProviderFatalError({ provider: active.name, message: sealed.message }))
        const withDefaults: Record<string, string | number | boolean> = {}
        for (const field of active.manifest.settings)
          if (field.default !== undefined) withDefaults[field.key] = field.default
        return Effect.succeed({ ...withDefaults, ...values })
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
  static readonly layer = Layer.effect(ActiveCode, make)
}
