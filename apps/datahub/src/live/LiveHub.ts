/**
 * Fan-out of committed live bars to the `/live` clients. Connections publish a batch after the
 * writer committed it, so a client never sees a bar the database does not have. The PubSub is
 * unbounded so a publisher never waits for a client; each client drains its subscription at once
 * into a bounded buffer of its own (LiveClient), which is where a slow client is caught.
 *
 * The newest bar of every series is kept, so that a client subscribing gets the current state at
 * once instead of waiting for the next update.
 */
import type { Timeframe } from "@quasar/domain"
import type { ProviderBar } from "@quasar/providers/sdk"
import { Clock, Context, Duration, Effect, Layer, PubSub, type Queue, Schedule, type Scope } from "effect"

export interface LiveUpdate {
  /** `seriesKey` of the update's series, computed once by the publisher. */
  readonly key: string
  readonly provider: string
  readonly symbol: string
  readonly timeframe: Timeframe.Timeframe
  readonly bar: ProviderBar
  readonly closed: boolean
}

// The series key of the writer, so a bar's series is one string everywhere.
export { seriesKey } from "../store/barBatch"

export interface LiveHubService {
  /** Hands committed bars to every client watching their series. */
  readonly publish: (updates: ReadonlyArray<LiveUpdate>) => Effect.Effect<void>
  /** Every batch of updates published from now on, until the scope closes. */
  readonly subscribe: Effect.Effect<Queue.Dequeue<ReadonlyArray<LiveUpdate>>, never, Scope.Scope>
  /** The newest update of a series, if any was published. */
  readonly latest: (key: string) => LiveUpdate | undefined
  /** Counts a `/live` client for as long as the scope lasts. */
  readonly connected: Effect.Effect<void, never, Scope.Scope>
  readonly clients: Effect.Effect<number>
  /**
   * The series streamed now, and how to re-read them: the LiveSupervisor keeps the set up to date
   * with the subscriptions.
   */
  readonly setStreamed: (keys: ReadonlySet<string>, reread: Effect.Effect<void>) => void
  /**
   * Whether `key` is collected live: a `/live` client may watch only such a series. A key not
   * known yet may belong to a subscription made a moment ago, so the subscriptions are re-read
   * first — at most once a second, however many clients ask.
   */
  readonly isStreamed: (key: string) => Effect.Effect<boolean>
}

/** The least time between two re-reads of the subscriptions asked for by `/live` clients. */
const REREAD_EVERY_MS = 1_000
/** How long a `/live` subscribe waits for a series it does not know yet to appear. */
const STREAMED_WAIT = Duration.seconds(2)

/** The hub of this process alone (LiveFanout shares it with the other runners). */
export const makeLiveHub = Effect.gen(function* () {
  // Batches, not single updates: one offer per client per committed batch.
  const pubsub = yield* Effect.acquireRelease(PubSub.unbounded<ReadonlyArray<LiveUpdate>>(), PubSub.shutdown)
  const newest = new Map<string, LiveUpdate>()
  let clients = 0
  let streamed: ReadonlySet<string> = new Set()
  let reread: Effect.Effect<void> = Effect.void
  let rereadAt = Number.NEGATIVE_INFINITY

  const publish = (updates: ReadonlyArray<LiveUpdate>) =>
    Effect.suspend(() => {
      for (const u of updates) {
        const known = newest.get(u.key)
        // A closed bar arriving after the next forming one (a gap fill) does not replace it.
        if (known === undefined || u.bar.ts >= known.bar.ts) newest.set(u.key, u)
      }
      return updates.length === 0 ? Effect.void : PubSub.publish(pubsub, updates)
    }).pipe(Effect.asVoid)

  return {
    publish,
    subscribe: PubSub.subscribe(pubsub),
    latest: (key) => newest.get(key),
    connected: Effect.acquireRelease(
      Effect.sync(() => {
        clients++
      }),
      () =>
        Effect.sync(() => {
          clients--
        })
    ),
    clients: Effect.sync(() => clients),
    setStreamed: (keys, again) => {
      streamed = keys
      reread = again
    },
    isStreamed: (key) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        if (streamed.has(key)) return Effect.succeed(true)
        // The re-read runs on its own (it may wait behind one already under way); the client
        // waits a little for the key to appear, not for the re-read itself.
        const start =
          now - rereadAt < REREAD_EVERY_MS
            ? Effect.void
            : Effect.zipRight(
                Effect.sync(() => {
                  rereadAt = now
                }),
                Effect.forkDaemon(reread)
              )
        return start.pipe(
          Effect.zipRight(
            Effect.sync(() => streamed.has(key)).pipe(
              Effect.repeat({ schedule: Schedule.spaced("50 millis"), until: (known) => known }),
              Effect.timeoutTo({
                duration: STREAMED_WAIT,
                onTimeout: () => false,
                onSuccess: () => streamed.has(key)
              })
            )
          )
        )
      })
  } satisfies LiveHubService
})

export class LiveHub extends Context.Tag("@quasar/datahub/live/LiveHub")<LiveHub, LiveHubService>() {
  static readonly layer = Layer.scoped(LiveHub, makeLiveHub)
}
