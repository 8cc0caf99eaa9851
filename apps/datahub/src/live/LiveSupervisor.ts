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
 */
import { Background, ChangeFeed, SchemaState } from "@quasar/server"
import { Context, Duration, Effect, ExecutionStrategy, Exit, Layer, Scope, Stream } from "effect"
import type { BarSource } from "../collect/BarSource"
import { SUBSCRIPTIONS_CHANNEL } from "../collect/Scheduler"
import type { BarWriter } from "../store/BarWriter"
import { LiveConfig } from "./LiveConfig"
import { LiveHub, seriesKey } from "./LiveHub"
import { LiveRepo, type LiveSubscription } from "./LiveRepo"
import type { LiveSource } from "./LiveSource"
import { type Member, makeConnection, type ProviderConnection } from "./ProviderConnection"
import { StatusBoard } from "./StatusBoard"

export interface LiveSupervisorService {
  /** Re-reads the live subscriptions and adjusts the connections (after any change to them). */
  readonly refresh: Effect.Effect<void>
  readonly status: Effect.Effect<ReturnType<StatusBoard["snapshot"]>>
}

const pairKey = (provider: string, timeframe: string) => `${provider}\u0000${timeframe}`

const make = Effect.gen(function* () {
  const repo = yield* LiveRepo
  const hub = yield* LiveHub
  const feed = yield* ChangeFeed.ChangeFeed
  const schema = yield* SchemaState.SchemaState
  const config = yield* LiveConfig
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
        const rows = yield* repo.subscriptions
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
          new Set(rows.map((r) => seriesKey(r))),
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
    yield* forever("live_data pruning", Effect.delay(repo.pruneLive, Duration.hours(1)), Duration.zero)
  }).pipe(Effect.forkScoped)

  return {
    refresh,
    status: Effect.map(hub.clients, (clients) => board.snapshot(config.now(), clients))
  } satisfies LiveSupervisorService
})

export class LiveSupervisor extends Context.Tag("@quasar/datahub/live/LiveSupervisor")<
  LiveSupervisor,
  LiveSupervisorService
>() {
  /** Needs the SQL client, ChangeFeed, SchemaState, BarWriter, LiveHub, LiveSource and BarSource. */
  static readonly layer = Layer.scoped(LiveSupervisor, make).pipe(Layer.provide(LiveRepo.layer))
}
