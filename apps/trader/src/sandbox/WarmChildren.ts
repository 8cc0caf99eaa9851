/**
 * Strategy children started ahead of their run. A submitted backtest's child is bundled, spawned
 * and loads the module (most of a second) from the moment the run is planned, while the run waits
 * in the queue and its bars start to load, so the run finds it ready or nearly. A warmed child still serves one run only,
 * the run of the code it loaded; one not taken within `ttl` is stopped. At most `max` wait at a
 * time: a request past that starts nothing, and its run starts its child itself, as without
 * warming. The expiry runs on the real clock, also where a test controls time.
 */
import { Clock, type Duration, Effect, Exit, Fiber, Option, Scope } from "effect"

interface Waiting<C, E, P> {
  readonly key: string
  readonly scope: Scope.CloseableScope
  readonly fiber: Fiber.Fiber<C, E>
  /** Where the child's progress goes: nowhere until a run takes it, and after the run. */
  forward: (progress: P) => void
  /** Stops the child if no run takes it within the ttl; interrupted when one does. */
  expiry?: Fiber.RuntimeFiber<void>
}

export interface WarmChildrenOptions {
  readonly max: number
  readonly ttl: Duration.DurationInput
}

const liveClock = Clock.make()

export const makeWarmChildren = <C, E, P>(options: WarmChildrenOptions) =>
  Effect.gen(function* () {
    const owner = yield* Effect.scope
    const waiting: Array<Waiting<C, E, P>> = []
    const close = (entry: Waiting<C, E, P>) =>
      Fiber.interrupt(entry.fiber).pipe(Effect.zipRight(Scope.close(entry.scope, Exit.void)))
    const remove = (entry: Waiting<C, E, P>): boolean => {
      const at = waiting.indexOf(entry)
      if (at >= 0) waiting.splice(at, 1)
      return at >= 0
    }
    yield* Effect.addFinalizer(() => Effect.forEach(waiting.splice(0), close, { discard: true }))

    /**
     * Starts `launch` for `key` in the background; `launch` gets the function that routes the
     * child's progress to whichever run takes it.
     */
    const warm = (
      key: string,
      launch: (onProgress: (progress: P) => void) => Effect.Effect<C, E, Scope.Scope>
    ): Effect.Effect<void> =>
      Effect.suspend(() => {
        if (waiting.length >= options.max) return Effect.void
        return Effect.gen(function* () {
          const scope = yield* Scope.make()
          const entry: Waiting<C, E, P> = {
            key,
            scope,
            fiber: yield* Effect.forkIn(
              launch((progress) => entry.forward(progress)).pipe(Scope.extend(scope)),
              owner
            ),
            forward: () => undefined
          }
          waiting.push(entry)
          entry.expiry = yield* Effect.sleep(options.ttl).pipe(
            Effect.zipRight(Effect.suspend(() => (remove(entry) ? close(entry) : Effect.void))),
            Effect.withClock(liveClock),
            Effect.forkIn(owner)
          )
        })
      })

    /**
     * The child warmed for `key`, if one waits (failing as its start failed); the caller's scope
     * now owns it and gets its progress.
     */
    const take = (
      key: string,
      onProgress: (progress: P) => void
    ): Effect.Effect<Option.Option<C>, E, Scope.Scope> =>
      Effect.suspend(() => {
        const entry = waiting.find((w) => w.key === key)
        if (entry === undefined || !remove(entry)) return Effect.succeedNone
        entry.forward = onProgress
        // Neither the expiry nor the entry outlives the run: a run's progress handler holds what
        // it gathers (a backtest's equity curve, 24 MB for a million bars).
        const released = Effect.suspend(() => {
          entry.forward = () => undefined
          return close(entry)
        })
        const expiry = entry.expiry
        return Effect.addFinalizer(() => released).pipe(
          Effect.zipRight(expiry === undefined ? Effect.void : Fiber.interrupt(expiry)),
          Effect.zipRight(Fiber.join(entry.fiber)),
          Effect.map(Option.some)
        )
      })

    return { warm, take }
  })
