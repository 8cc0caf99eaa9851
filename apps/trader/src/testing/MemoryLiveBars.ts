/** `LiveBars` from memory, for tests: `publish` sends a closed bar to every stream of its series. */
import { Effect, Layer, PubSub, Stream, SubscriptionRef } from "effect"
import { type LiveBar, LiveBars, sameSeries } from "../deploy/LiveBars"

export interface MemoryLiveBars {
  readonly publish: (bar: LiveBar) => Effect.Effect<void>
  /** Waits until at least `n` streams listen (a bar published before would reach nobody). */
  readonly listening: (n: number) => Effect.Effect<void>
}

/** Built outside any layer (all of it is synchronous), so that a test holds the same hub as the app it builds. */
export const make = Effect.gen(function* () {
  const hub = yield* PubSub.unbounded<LiveBar>()
  const listeners = yield* SubscriptionRef.make(0)
  const memory: MemoryLiveBars = {
    publish: (bar) => PubSub.publish(hub, bar),
    listening: (n) =>
      listeners.changes.pipe(
        Stream.takeUntil((count) => count >= n),
        Stream.runDrain
      )
  }
  const service = LiveBars.of({
    closed: (series) =>
      Stream.unwrapScoped(
        Effect.gen(function* () {
          const subscription = yield* PubSub.subscribe(hub)
          yield* Effect.acquireRelease(
            SubscriptionRef.update(listeners, (n) => n + 1),
            () => SubscriptionRef.update(listeners, (n) => n - 1)
          )
          return Stream.fromQueue(subscription).pipe(
            Stream.filter((bar) => series.some((s) => sameSeries(s, bar.series)))
          )
        })
      )
  })
  return { memory, layer: Layer.succeed(LiveBars, service) }
})
