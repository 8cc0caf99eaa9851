/**
 * How many runs of one provider may be in flight at once, across all its subscriptions: a
 * semaphore per provider name. Request rates are limited elsewhere (the provider context's shared
 * token bucket); this bounds parallel work, so a thousand subscriptions of one provider are a
 * queue of runs, not a thousand concurrent downloads.
 */
import { Context, Effect, Layer } from "effect"
import { CollectionConfig } from "./CollectionConfig"

export class ProviderLimits extends Context.Tag("@quasar/datahub/collect/ProviderLimits")<
  ProviderLimits,
  {
    /** Runs `self` holding one of the provider's permits (waiting for one when all are taken). */
    readonly withPermit: (
      provider: string
    ) => <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  }
>() {
  static readonly layer = Layer.effect(
    ProviderLimits,
    Effect.gen(function* () {
      const { concurrency } = yield* CollectionConfig
      const semaphores = new Map<string, Effect.Semaphore>()
      const semaphore = (provider: string) => {
        const existing = semaphores.get(provider)
        if (existing) return existing
        const created = Effect.unsafeMakeSemaphore(
          Math.max(1, concurrency.byProvider[provider] ?? concurrency.perProvider)
        )
        semaphores.set(provider, created)
        return created
      }
      return {
        withPermit:
          (provider) =>
          <A, E, R>(self: Effect.Effect<A, E, R>) =>
            Effect.suspend(() => semaphore(provider).withPermits(1)(self))
      }
    })
  )
}
