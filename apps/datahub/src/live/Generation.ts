/**
 * One physical connection of a ProviderConnection ("generation"): the provider's live stream for a
 * fixed set of symbols, consumed by its own fiber in its own scope, with a watchdog that ends it
 * when nothing at all (bar, heartbeat, ack) arrived for `staleAfter`. A connection has one of
 * these at a time, two during a handover (the next one opened before the current one closes).
 */
import { type ProviderError, ProviderRetryableError, type Timeframe } from "@quasar/domain"
import type { LiveEvent } from "@quasar/providers/sdk"
import { Clock, Deferred, Duration, Effect, Exit, Scope, Stream } from "effect"
import type { LiveSourceService } from "./LiveSource"

export interface Generation {
  readonly n: number
  readonly symbols: ReadonlySet<string>
  /** Symbols the provider answered for on this connection (ack, refusal or a first bar). */
  readonly answered: Set<string>
  /** When (ms, on the service's Clock) it was opened and of its last event. */
  readonly openedAt: number
  lastEventAt: number
  /** When the last event other than a closed bar came (a provider may make those up on a timer). */
  lastLiveAt: number
  /** Completes once every symbol is answered, or after the handover timeout. */
  readonly ready: Deferred.Deferred<void>
  /** Completes when the stream ended, with why. */
  readonly ended: Deferred.Deferred<ProviderError>
  readonly scope: Scope.CloseableScope
}

export interface OpenOptions {
  readonly source: LiveSourceService
  readonly n: number
  readonly provider: string
  readonly timeframe: Timeframe.Timeframe
  readonly symbols: ReadonlyArray<string>
  readonly staleAfter: Duration.Duration
  readonly handoverTimeout: Duration.Duration
  /** Waited for after each batch of events, before the next is read (backpressure). */
  readonly ready?: Effect.Effect<void> | undefined
  /**
   * Runs for every event, in order, on the generation's fiber, with the Clock's time its batch
   * arrived at; `Effect.void` when all was done at once.
   */
  readonly handle: (gen: Generation, event: LiveEvent, now: number) => Effect.Effect<void>
}

/** Marks `symbol` answered; true the first time. */
export const answer = (gen: Generation, symbol: string): boolean => {
  if (gen.answered.has(symbol) || !gen.symbols.has(symbol)) return false
  gen.answered.add(symbol)
  if (gen.answered.size === gen.symbols.size) Deferred.unsafeDone(gen.ready, Exit.void)
  return true
}

export const openGeneration = (options: OpenOptions): Effect.Effect<Generation> =>
  Effect.gen(function* () {
    const { provider, timeframe, source } = options
    const scope = yield* Scope.make()
    const now = yield* Clock.currentTimeMillis
    const gen: Generation = {
      n: options.n,
      symbols: new Set(options.symbols),
      answered: new Set(),
      openedAt: now,
      lastEventAt: now,
      lastLiveAt: now,
      ready: yield* Deferred.make<void>(),
      ended: yield* Deferred.make<ProviderError>(),
      scope
    }
    const staleMs = Duration.toMillis(options.staleAfter)

    // A batch at a time; an event whose handling is all synchronous (nearly every bar) returns
    // `Effect.void` and costs no Effect run, the others run in order before the next event.
    const consume = source.live(provider, { symbols: options.symbols, timeframe }).pipe(
      Stream.runForEachChunk((events) =>
        Effect.gen(function* () {
          const now = yield* Clock.currentTimeMillis
          gen.lastEventAt = now
          for (const event of events) {
            const effect = options.handle(gen, event, now)
            if (effect !== Effect.void) yield* effect
          }
          if (options.ready) yield* options.ready
        })
      ),
      Effect.zipRight(
        Effect.fail(new ProviderRetryableError({ provider, message: "the provider ended its live stream" }))
      )
    )
    const watchdog = Effect.gen(function* () {
      while (true) {
        yield* Effect.sleep(Duration.millis(Math.max(50, staleMs / 4)))
        const quiet = (yield* Clock.currentTimeMillis) - gen.lastEventAt
        if (quiet > staleMs)
          return yield* new ProviderRetryableError({
            provider,
            message: `nothing received for ${Math.round(quiet / 1000)} s (stale after ${Duration.format(options.staleAfter)}); reconnecting`
          })
      }
    })
    yield* Effect.raceFirst(consume, watchdog).pipe(
      Effect.catchAllDefect((defect) =>
        Effect.fail(
          new ProviderRetryableError({ provider, message: `live stream crashed: ${String(defect)}` })
        )
      ),
      Effect.flip,
      Effect.flatMap((error) => Deferred.succeed(gen.ended, error)),
      Effect.forkIn(scope)
    )
    yield* Deferred.succeed(gen.ready, undefined).pipe(
      Effect.delay(options.handoverTimeout),
      Effect.forkIn(scope)
    )
    return gen
  }).pipe(Effect.annotateLogs({ generation: options.n }))

export const closeGeneration = (gen: Generation): Effect.Effect<void> => Scope.close(gen.scope, Exit.void)
