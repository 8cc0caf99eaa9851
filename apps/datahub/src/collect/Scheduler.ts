/**
 * Runs the history collection of every active subscription.
 *
 * Design: one supervised fiber per subscription (a `FiberMap` keyed by id) rather than one loop
 * over all of them. Each subscription has its own clock (bar-aligned runs of different
 * timeframes and publish delays) and its own failure state; a fiber that sleeps until its next
 * run costs nothing, a slow provider never delays another's runs, and pausing or deleting is
 * interrupting one fiber — effective at once, with no shared loop to re-plan. What must be
 * shared is shared explicitly: a semaphore per provider (ProviderLimits) bounds parallel runs,
 * and the provider's token bucket its request rate. All state is in the database, so a fiber can
 * be stopped and started at any time.
 *
 * Changes reach it three ways: the API calls `refresh` in-process right after its write; other
 * DataHubs' writes arrive on the ChangeFeed channel `subscriptions` (≈0.4 s); and a periodic
 * re-read catches anything missed.
 *
 * Several DataHubs share the work as runners of one cluster: a subscription runs only on the
 * runner that owns its provider (ProviderOwnership), and its fiber stops as soon as ownership
 * leaves. Runs are idempotent (upserts, progress read from the row), so the moment in a handoff
 * when the old owner is still stopping while the new one starts costs a repeated page at most.
 */
import { Background, ChangeFeed, SchemaState } from "@quasar/server"
import { Cause, Context, Duration, Effect, FiberMap, Layer, Option, Stream } from "effect"
import { ProviderOwnership } from "../cluster/ProviderOwnership"
import { CollectionConfig } from "./CollectionConfig"
import { CollectionRunRepo } from "./CollectionRunRepo"
import { GapRepo } from "./GapRepo"
import { ProviderLimits } from "./ProviderLimits"
import { subscriptionLoop } from "./SubscriptionLoop"
import { isRunnable, SubscriptionRepo } from "./SubscriptionRepo"

export const SUBSCRIPTIONS_CHANNEL = "subscriptions"

export interface SchedulerService {
  /** Starts or stops the subscription's fiber to match its row (after any change to it). */
  readonly refresh: (id: number) => Effect.Effect<void>
  /** Stops the subscription's fiber and waits until it has stopped. */
  readonly stop: (id: number) => Effect.Effect<void>
  /**
   * Runs `effect` with the subscription's fiber stopped and kept stopped: a re-read that saw the
   * row before `effect` deleted it starts no loop meanwhile (one did, and backfilled a purged
   * series again).
   */
  readonly whileStopped: <A, E, R>(id: number, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** Ids of the subscriptions with a running fiber. */
  readonly running: Effect.Effect<ReadonlyArray<number>>
}

const RESTART_AFTER_CRASH = Duration.seconds(5)
/** A run that has not beaten for this long (it beats every RUN_HEARTBEAT) has no live process. */
export const RUN_SILENCE_LIMIT = Duration.minutes(2)

/** What a subscription's loop needs from its environment. */
type LoopContext = Effect.Effect.Context<ReturnType<typeof subscriptionLoop>>

const idOf = (payload: unknown): number | undefined => {
  const id = (payload as { readonly id?: unknown } | null)?.id
  return typeof id === "number" ? id : undefined
}

const make = Effect.gen(function* () {
  const subscriptions = yield* SubscriptionRepo
  const runs = yield* CollectionRunRepo
  const feed = yield* ChangeFeed.ChangeFeed
  const schema = yield* SchemaState.SchemaState
  const config = yield* CollectionConfig
  const ownership = yield* ProviderOwnership
  const fibers = yield* FiberMap.make<number>()
  /** The provider of each running fiber's subscription: what stops when ownership leaves. */
  const providerOf = new Map<number, string>()
  /** Subscriptions whose fiber must not start now (`whileStopped`). */
  const held = new Set<number>()
  const fork = yield* FiberMap.runtime(fibers)<LoopContext>()

  /** A loop that crashes (a defect) is logged and restarted; it never dies silently. */
  const supervised = (id: number): Effect.Effect<void, never, LoopContext> =>
    subscriptionLoop(id).pipe(
      Effect.catchAllCause((cause) =>
        Cause.isInterruptedOnly(cause)
          ? Effect.interrupt
          : Effect.logError("collection loop crashed; restarting it", cause).pipe(
              Effect.annotateLogs({ subscription: id }),
              Effect.zipRight(Effect.sleep(RESTART_AFTER_CRASH)),
              Effect.zipRight(Effect.suspend(() => supervised(id)))
            )
      )
    )

  const timed = <A, E, R>(self: Effect.Effect<A, E, R>) =>
    config.clock === undefined ? self : Effect.withClock(self, config.clock)
  const stop = (id: number) =>
    Effect.zipRight(
      FiberMap.remove(fibers, id),
      Effect.sync(() => providerOf.delete(id))
    )
  /** Starts the subscription's fiber if this runner owns its provider, else makes sure it is stopped. */
  const start = (id: number, provider: string, owned: ReadonlySet<string>) =>
    owned.has(provider) && !held.has(id)
      ? Effect.sync(() => {
          providerOf.set(id, provider)
          fork(id, timed(supervised(id)), { onlyIfMissing: true })
        })
      : stop(id)

  const refresh = (id: number) =>
    subscriptions.get(id).pipe(
      Effect.flatMap((row) =>
        Option.isSome(row) && isRunnable(row.value)
          ? Effect.zipRight(
              ownership.register(row.value.provider),
              Effect.flatMap(ownership.owned, (owned) => start(id, row.value.provider, owned))
            )
          : stop(id)
      ),
      Effect.catchAll((e) =>
        Effect.logWarning("could not re-read a changed subscription; the periodic re-read will").pipe(
          Effect.annotateLogs({ subscription: id, error: e.message })
        )
      )
    )

  /** Makes the set of fibers match the set of active rows of the providers owned here. */
  const reconcile = Effect.gen(function* () {
    const rows = yield* subscriptions.runnable
    for (const provider of new Set(rows.map((r) => r.provider))) yield* ownership.register(provider)
    const owned = yield* ownership.owned
    const wanted = new Set(rows.filter((r) => owned.has(r.provider)).map((r) => r.id))
    for (const r of rows) if (wanted.has(r.id)) yield* start(r.id, r.provider, owned)
    for (const [id] of yield* Effect.sync(() => [...fibers])) if (!wanted.has(id)) yield* stop(id)
  })

  /**
   * Stops at once, all together, the fibers of providers no longer owned here (no database needed
   * for that): one by one, each stop would free a permit for a loop still waiting its turn.
   */
  const release = (owned: ReadonlySet<string>) =>
    Effect.forEach(
      [...providerOf].filter(([, provider]) => !owned.has(provider)),
      ([id]) => stop(id),
      { discard: true, concurrency: "unbounded" }
    )

  const { forever } = Background

  yield* Effect.gen(function* () {
    // Tables may not exist before the migrations ran.
    yield* schema.ready
    yield* forever("subscription re-read", reconcile, config.reconcileEvery)
    // At start first: runs a crash cut off are closed as soon as their heartbeat is stale.
    yield* forever(
      "closing runs of stopped DataHubs",
      runs
        .interruptStale(RUN_SILENCE_LIMIT)
        .pipe(
          Effect.tap((n) =>
            n > 0
              ? Effect.logWarning("collection runs of a stopped DataHub closed as interrupted").pipe(
                  Effect.annotateLogs({ runs: n })
                )
              : Effect.void
          )
        ),
      Duration.minutes(1)
    )
    yield* forever("collection run pruning", runs.prune, Duration.hours(1))
    yield* forever(
      "provider ownership",
      ownership.changes.pipe(
        Stream.runForEach((owned) => Effect.zipRight(release(owned), Effect.ignore(reconcile)))
      ),
      Duration.seconds(1)
    )
    yield* forever(
      "subscription change feed",
      feed.changes(SUBSCRIPTIONS_CHANNEL).pipe(
        Stream.runForEach((change) => {
          const id = idOf(change.payload)
          return id === undefined ? Effect.ignore(reconcile) : refresh(id)
        })
      ),
      Duration.seconds(1)
    )
  }).pipe(Effect.forkScoped)

  const whileStopped = <A, E, R>(id: number, effect: Effect.Effect<A, E, R>) =>
    Effect.acquireUseRelease(
      Effect.zipRight(
        Effect.sync(() => held.add(id)),
        stop(id)
      ),
      () => effect,
      () => Effect.sync(() => held.delete(id))
    )

  return {
    refresh,
    stop,
    whileStopped,
    running: Effect.sync(() => [...fibers].map(([id]) => id))
  } satisfies SchedulerService
})

export class Scheduler extends Context.Tag("@quasar/datahub/collect/Scheduler")<
  Scheduler,
  SchedulerService
>() {
  static readonly layer = Layer.scoped(Scheduler, make).pipe(
    Layer.provide([ProviderLimits.layer, GapRepo.layer, CollectionRunRepo.layer])
  )
}
