import { HttpApiBuilder } from "@effect/platform"
import { DEFAULT_ASSET_PAGE, RegistryApi } from "@quasar/domain"
import { Effect, Layer } from "effect"
import { refreshAssets } from "./AssetRefresh"
import { AssetsRepo } from "./AssetsRepo"

export const AssetsApiLive = HttpApiBuilder.group(RegistryApi, "assets", (handlers) =>
  Effect.gen(function* () {
    const repo = yield* AssetsRepo
    const context = yield* Effect.context<Effect.Effect.Context<ReturnType<typeof refreshAssets>>>()
    return handlers
      .handle("search", ({ urlParams }) =>
        Effect.map(repo.search(urlParams), (page) => ({
          ...page,
          limit: urlParams.limit ?? DEFAULT_ASSET_PAGE,
          offset: urlParams.offset ?? 0
        }))
      )
      .handle("refresh", ({ path }) => refreshAssets(path.provider).pipe(Effect.provide(context)))
  })
).pipe(Layer.provide(AssetsRepo.layer))
