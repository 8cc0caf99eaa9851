/**
 * Runs the live streams of every subscription in mode `live` or `both`: one ProviderConnection
 * per provider and timeframe (the SDK's `live` takes one timeframe), each in a scope of its own,
 * carrying all of that pair's symbols.
 *
 * Changes reach it like they reach the scheduler: `refresh` in-process, the ChangeFeed channel
 * `subscriptions` for changes made anywhere (≈0.4 s), and a periodic re-read for anything missed.
 * Each compares the rows with the connections: new pairs get a connection, gone pairs are closed,
 * and each connection is handed its current members (it adds and drops symbols itself, without
 * disturbing the others).
 *
 * In a cluster only the runner that owns a provider (ProviderOwnership) opens its connections:
 * every runner reads all rows (the hub still knows every streamed series), but connections are
 * made for owned providers only, and a change of ownership re-reads at once, closing what left.
 */

import { LiveStatus, ProviderName } from "@quasar/domain"
import { Background, ChangeFeed, SchemaState } from "@quasar/server"
import { Context, Duration, Effect, ExecutionStrategy, Exit, Layer, Option, Scope, Stream } from "effect"
import { ProviderOwnership } from "../cluster/ProviderOwnership"
import type { BarSource } from "../collect/BarSource"
import { SUBSCRIPTIONS_CHANNEL } from "../collect/Scheduler"
import type { BarWriter } from "../store/BarWriter"
import { LiveConfig } from "./LiveConfig"
import { LiveHub, seriesKey } from "./LiveHub"
import { LiveRepo, type LiveSubscription } from "./LiveRepo"
import { LiveSource } from "./LiveSource"
import { type Member, makeConnection, type ProviderConnection } from "./ProviderConnection"
import { StatusBoard } from "./StatusBoard"

export interface LiveSupervisorService {
  /** Re-reads the live subscriptions and adjusts the connections (after any change to them). */
  readonly refresh: Effect.Effect<void>
  /** This runner's connections and series, and which runner owns each provider. */
  readonly status: Effect.Effect<typeof LiveStatus.Type>
}

const pairKey = (provider: string, timeframe: string) => `${provider}\u0000${timeframe}`

const make = Effect.gen(function* () {
  const repo = yield* LiveRepo
  const hub = yield* LiveHub
  const feed = yield* ChangeFeed.ChangeFeed
  const schema = yield* SchemaState.SchemaState
  const config = yield* LiveConfig
  const source = yield* LiveSource
  const ownership = yield* ProviderOwnership
  // What each connection's fibers run with.
  const context = yield* Effect.context<LiveRepo | LiveHub | BarWriter | BarSource | LiveSource>()
  const lifetime = yield* Effect.scope
  const board = new StatusBoard()
  const connections = new Map<
    string,
    { readonly connection: ProviderConnection; readonly scope: Scope.CloseableScope }
  >()
  const lock = yield* Effect.makeSemaphore(1)

  const connectionFor = (provider: string, timeframe: LiveSubscription["timeframe"]) =>
    Effect.gen(function* () {
      const key = pairKey(provider, timeframe)
      const known = connections.get(key)
      if (known) return known.connection
      const scope = yield* Scope.fork(lifetime, ExecutionStrategy.sequential)
      const connection = yield* makeConnection(provider, timeframe, board).pipe(
        Scope.extend(scope),
        Effect.provide(context)
      )
      connections.set(key, { connection, scope })
      return connection
    })

  /** Makes the connections match the rows. */
  const reconcile = lock
    .withPermits(1)(
      Effect.gen(function* () {
        const all = yield* repo.subscriptions
        for (const provider of new Set(all.map((r) => r.provider))) yield* ownership.register(provider)
        const owned = yield* ownership.owned
        const rows = all.filter((r) => owned.has(r.provider))
        const groups = new Map<
          string,
          { provider: string; timeframe: LiveSubscription["timeframe"]; members: Array<Member> }
        >()
        for (const r of rows) {
          const key = pairKey(r.provider, r.timeframe)
          const group = groups.get(key) ?? { provider: r.provider, timeframe: r.timeframe, members: [] }
          group.members.push({ id: r.id, symbol: r.symbol, mode: r.mode === "both" ? "both" : "live" })
          groups.set(key, group)
        }
        hub.setStreamed(
          new Set(all.map((r) => seriesKey(r))),
          Effect.suspend(() => refresh)
        )
        for (const group of groups.values())
          yield* Effect.flatMap(connectionFor(group.provider, group.timeframe), (c) =>
            c.setMembers(group.members)
          )
        for (const [key, { scope }] of [...connections])
          if (!groups.has(key)) {
            connections.delete(key)
            yield* Scope.close(scope, Exit.void)
          }
      })
    )
    .pipe(Effect.withSpan("LiveSupervisor.reconcile"))

  const refresh = reconcile.pipe(
    Effect.catchAll((e) =>
      Effect.logWarning("could not re-read the live subscriptions; the periodic re-read will").pipe(
        Effect.annotateLogs({ error: e.message })
      )
    )
  )

  const { forever } = Background

  yield* Effect.gen(function* () {
    // Tables may not exist before the migrations ran.
    yield* schema.ready
    yield* forever("live subscription re-read", reconcile, config.reconcileEvery)
    yield* forever(
      "live subscription change feed",
      feed.changes(SUBSCRIPTIONS_CHANNEL).pipe(
        // A burst of changes (a watchlist subscribed at once) is one re-read.
        Stream.debounce(Duration.millis(200)),
        Stream.runForEach(() => refresh)
      ),
      Duration.seconds(1)
    )
    yield* forever(
      "provider ownership",
      ownership.changes.pipe(Stream.runForEach(() => refresh)),
      Duration.seconds(1)
    )
    yield* forever("live_data pruning", Effect.delay(repo.pruneLive, Duration.hours(1)), Duration.zero)
  }).pipe(Effect.forkScoped)

  return {
    refresh,
    // The lag is measured against bar close times: on the providers' clock.
    status: Effect.all([source.now, hub.clients, Effect.option(ownership.owners)]).pipe(
      Effect.map(([now, clients, owners]) =>
        LiveStatus.make({
          ...board.snapshot(now, clients),
          runner: ownership.runner,
          ...(Option.isSome(owners)
            ? {
                owners: owners.value.map((o) => ({
                  provider: ProviderName.make(o.provider),
                  runner: o.runner
                }))
              }
            : {})
        })
      )
    )
  } satisfies LiveSupervisorService
})

export class LiveSupervisor extends Context.Tag("@quasar/datahub/live/LiveSupervisor")<
  LiveSupervisor,
  LiveSupervisorService
>() {
  /**
   * Needs the SQL client, ChangeFeed, SchemaState, BarWriter, LiveHub, LiveSource, BarSource and
   * ProviderOwnership.
   */
  static readonly layer = Layer.scoped(LiveSupervisor, make).pipe(Layer.provide(LiveRepo.layer))
}
