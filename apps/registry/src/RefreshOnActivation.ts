/**
 * When a version is activated (by any Registry instance), list that provider's assets again:
 * the new code may offer other symbols. Listens on the change feed so it works across replicas.
 * A strategy lists no assets, so its activation refreshes nothing.
 */
import type { ProviderName } from "@quasar/domain"
import { ChangeFeed } from "@quasar/server"
import { Effect, Layer, Option, Stream } from "effect"
import { refreshAssets } from "./AssetRefresh"
import { CODE_CHANNEL } from "./CodeRegistry"

/** The name whose assets an activation event asks to refresh: none for a strategy's. */
export const activatedName = (payload: unknown): string | undefined =>
  typeof payload === "object" &&
  payload !== null &&
  "event" in payload &&
  payload.event === "activated" &&
  !("kind" in payload && payload.kind === "strategy") &&
  "name" in payload &&
  typeof payload.name === "string"
    ? payload.name
    : undefined

export const RefreshOnActivation = Layer.scopedDiscard(
  Effect.gen(function* () {
    const feed = yield* ChangeFeed.ChangeFeed
    yield* feed.changes(CODE_CHANNEL).pipe(
      Stream.filterMap((change) => {
        const name = activatedName(change.payload)
        return Option.fromNullable(name)
      }),
      Stream.runForEach((name) =>
        refreshAssets(name as ProviderName).pipe(
          Effect.tap((r) =>
            Effect.logInfo("assets refreshed after activation").pipe(Effect.annotateLogs({ ...r }))
          ),
          Effect.catchAll((e) =>
            Effect.logWarning("assets not refreshed after activation").pipe(
              Effect.annotateLogs({ provider: name, error: e.message })
            )
          )
        )
      ),
      Effect.forkScoped
    )
  })
)
