/**
 * What the Registry tells DataHub over the internal channel: code, opened settings, assets,
 * mappings, and the wait for changes. A database failure answers 503, which DataHub reads as
 * "keep what you have cached".
 */
import { type CodeVersion, MAX_CATALOG_WAIT_MS, NotFound, ServiceUnavailable } from "@quasar/domain"
import { Clock, Context, Duration, Effect, Layer, Option } from "effect"
import { answer } from "./CatalogChanges"
import { CatalogRepo } from "./CatalogRepo"
import { ProviderSettings } from "./ProviderSettings"

type Name = CodeVersion["name"]

/** How often a waiting caller's question is asked of the change events again. */
const POLL = Duration.millis(400)
/** What a caller that gives no `waitMs` waits. */
const DEFAULT_WAIT_MS = MAX_CATALOG_WAIT_MS

const unavailable = (what: string) => (e: { readonly message: string }) =>
  new ServiceUnavailable({
    message: `the Registry cannot read ${what} from its database (${e.message}); retry shortly`
  })

const make = Effect.gen(function* () {
  const repo = yield* CatalogRepo
  const settings = yield* ProviderSettings

  const found = (what: string) =>
    Option.match({
      onNone: () => Effect.fail(new NotFound({ message: `${what}: upload it to the Registry first` })),
      onSome: Effect.succeed
    })

  const current = (name: Name) =>
    repo
      .current(name)
      .pipe(
        Effect.mapError(unavailable(`the code of "${name}"`)),
        Effect.flatMap(found(`no provider or broker named "${name}"`))
      )

  const version = (name: Name, v: number) =>
    repo
      .version(name, v)
      .pipe(
        Effect.mapError(unavailable(`version ${v} of "${name}"`)),
        Effect.flatMap(found(`"${name}" v${v} does not exist`))
      )

  const opened = (name: Name) =>
    settings.opened(name).pipe(Effect.mapError(unavailable(`the settings of "${name}"`)))

  /**
   * Changes after `after`, as soon as there are any, or none once `waitMs` has passed. The
   * events are polled here rather than pushed: the caller's wait survives a restart of either
   * side, and the counter comes from the table, not from this process.
   */
  const changes = (after: number | undefined, waitMs = DEFAULT_WAIT_MS) =>
    Effect.gen(function* () {
      const deadline = (yield* Clock.currentTimeMillis) + waitMs
      const ask = repo.changesAfter(after ?? 0).pipe(
        Effect.map((events) => answer(after, events)),
        Effect.mapError(unavailable("its change events"))
      )
      while (true) {
        const result = yield* ask
        const now = yield* Clock.currentTimeMillis
        if (result.reset || result.changes.length > 0 || now >= deadline) return result
        yield* Effect.sleep(Duration.min(POLL, Duration.millis(deadline - now)))
      }
    })

  return {
    current,
    version,
    opened,
    changes,
    providers: Effect.mapError(repo.providers, unavailable("the providers it knows")),
    assets: (provider: Name) =>
      Effect.mapError(repo.assets(provider), unavailable(`the assets of "${provider}"`)),
    mappings: Effect.mapError(repo.mappings, unavailable("the mappings"))
  } as const
})

export class Catalog extends Context.Tag("@quasar/registry/Catalog")<
  Catalog,
  Effect.Effect.Success<typeof make>
>() {
  static readonly layer = Layer.effect(Catalog, make).pipe(Layer.provide(CatalogRepo.layer))
}
