/**
 * One provider connection: the live stream of one provider and timeframe, carrying every live
 * subscription of that pair, driven by one supervised fiber.
 *
 * - Lost or stale (nothing for `staleAfter`): closed, reopened after the host's provider backoff
 *   (exponential with jitter), every symbol subscribed again; each series' closed bars are held
 *   until history has filled the gap since its last stored bar (SeriesState), so none is lost.
 * - Symbols added at runtime: a second connection with the new set is opened while the current one
 *   keeps streaming, and takes over once the provider answered for every symbol ("make before
 *   break"), so the others lose nothing and need no gap fill. Removed symbols are only ignored
 *   until the next reopen: dropping them costs the others nothing.
 * - A symbol the provider refuses puts that subscription in error; the others go on. A connection
 *   refused for good (fatal) puts its subscriptions in error with the reason.
 */
import type { SqlError } from "@effect/sql"
import type { ProviderError, Timeframe } from "@quasar/domain"
import { Metrics } from "@quasar/server"
import { Cause, Deferred, Duration, Effect, Metric, Queue, Schedule } from "effect"
import { providerRetrySchedule } from "../sandbox/providerHost"
import { isSettingsRefusal } from "../sandbox/settingsNotices"
import { makeConnectionEvents } from "./ConnectionEvents"
import { closeGeneration, type Generation, openGeneration } from "./Generation"
import { LiveConfig } from "./LiveConfig"
import { LiveRepo } from "./LiveRepo"
import { LiveSource } from "./LiveSource"
import { makeLiveWrites } from "./LiveWrites"
import { type ConnectionStatus, newSeries, type SeriesState } from "./SeriesState"
import type { ConnectionView, StatusBoard } from "./StatusBoard"

export interface Member {
  readonly id: number
  readonly symbol: string
  readonly mode: "live" | "both"
}

export interface ProviderConnection {
  readonly view: ConnectionView
  /** Makes the connection carry exactly these subscriptions (effective within `changeDebounce`). */
  readonly setMembers: (members: ReadonlyArray<Member>) => Effect.Effect<void, SqlError.SqlError>
}

const RESTART_AFTER_CRASH = Duration.seconds(5)

export const makeConnection = (provider: string, timeframe: Timeframe.Timeframe, board: StatusBoard) =>
  Effect.gen(function* () {
    const config = yield* LiveConfig
    const repo = yield* LiveRepo
    const writes = yield* makeLiveWrites(provider, timeframe)
    const source = yield* LiveSource
    const status: ConnectionStatus = {
      provider,
      timeframe,
      state: "stopped",
      connectedSince: null,
      lastMessageAt: null,
      reconnects: 0,
      lastError: null
    }
    const series = new Map<string, SeriesState>()
    const changes = yield* Queue.sliding<void>(1)
    let primary: Generation | undefined
    let generations = 0
    const view: ConnectionView = { status, series, symbols: () => [...(primary?.symbols ?? [])] }
    board.add(view)
    const setState = (state: ConnectionStatus["state"]) => board.setState(status, state, config.now())

    // Finalizers run last-added first: the fibers stop, then the sockets, then what gathered is written.
    yield* Effect.addFinalizer(() =>
      writes.flush.pipe(
        Effect.timeout(Duration.seconds(10)),
        Effect.ignore,
        Effect.zipRight(board.remove(view))
      )
    )
    yield* Effect.addFinalizer(() => (primary ? closeGeneration(primary) : Effect.void))

    const events = yield* makeConnectionEvents({
      provider,
      timeframe,
      status,
      series,
      writes,
      isPrimary: (gen) => gen === primary,
      setState
    })

    const open = Effect.suspend(() =>
      openGeneration({
        source,
        n: ++generations,
        provider,
        timeframe,
        symbols: [...series.keys()],
        staleAfter: config.staleAfter,
        handoverTimeout: config.handoverTimeout,
        handle: events.handle,
        ready: writes.capacity
      })
    ).pipe(
      Effect.tap((gen) =>
        Effect.logInfo("live connection opening").pipe(
          Effect.annotateLogs({ generation: gen.n, symbols: gen.symbols.size })
        )
      )
    )

    const lostConnection = (gen: Generation, error: ProviderError) =>
      Effect.gen(function* () {
        status.reconnects++
        status.lastError = error.message
        yield* Metric.increment(Metric.tagged(Metrics.liveReconnects, "provider", provider))
        // Missing settings are reported once per provider, at warn (settingsNotices.ts).
        yield* (isSettingsRefusal(error) ? Effect.logInfo : Effect.logWarning)(
          "live connection lost; its series wait for a gap fill after the reconnect"
        ).pipe(
          Effect.annotateLogs({ generation: gen.n, error: error.message, reconnects: status.reconnects })
        )
      })

    /** Refused for good: every subscription of the connection is in error until an operator resumes it. */
    const refusedForGood = (error: ProviderError) =>
      Effect.forEach(
        [...series.values()],
        (state) =>
          events.refuse(
            state,
            events.refusal(state.symbol, `the live connection was refused: ${error.message}`)
          ),
        { discard: true }
      )

    const control = Effect.gen(function* () {
      const backoff = yield* Schedule.driver(
        providerRetrySchedule({ ...config.reconnect, maxAttempts: Number.MAX_SAFE_INTEGER })
      )
      while (true) {
        if (series.size === 0) {
          if (primary) yield* closeGeneration(primary)
          primary = undefined
          yield* setState("stopped")
          yield* Queue.take(changes)
          continue
        }
        if (primary === undefined) {
          yield* setState("connecting")
          primary = yield* open
        }
        const current = primary
        const next = yield* Effect.raceFirst(
          Effect.map(Deferred.await(current.ended), (error) => ({ _tag: "Ended", error }) as const),
          Effect.as(Queue.take(changes), { _tag: "Changed" } as const)
        )
        if (next._tag === "Changed") {
          yield* Effect.sleep(config.changeDebounce)
          yield* Queue.takeAll(changes)
          if ([...series.keys()].some((s) => !current.symbols.has(s))) yield* handover(current)
          continue
        }
        // Lost: reconnect after a backoff (from the first delay again if it had been up a while).
        primary = undefined
        yield* closeGeneration(current)
        yield* lostConnection(current, next.error)
        yield* events.waitUnlessAnswered(undefined)
        if (next.error._tag === "ProviderFatalError") {
          yield* refusedForGood(next.error)
          continue
        }
        yield* setState("backoff")
        if (Date.now() - current.openedAt > Duration.toMillis(config.healthyAfter)) yield* backoff.reset
        yield* backoff.next(next.error).pipe(Effect.ignore)
      }
    })

    /** Opens a connection with the new symbol set and switches to it once it answered for all. */
    const handover = (current: Generation) =>
      Effect.gen(function* () {
        const candidate = yield* open
        const outcome = yield* Effect.raceAll([
          Effect.as(Deferred.await(candidate.ready), { _tag: "Ready" } as const),
          Effect.map(Deferred.await(candidate.ended), (error) => ({ _tag: "Failed", error }) as const),
          Effect.map(Deferred.await(current.ended), (error) => ({ _tag: "Lost", error }) as const)
        ])
        if (outcome._tag === "Failed") {
          yield* closeGeneration(candidate)
          yield* Effect.logWarning(
            "could not reopen the live connection with new symbols; keeping the current one"
          ).pipe(Effect.annotateLogs({ error: outcome.error.message }))
          if (outcome.error._tag === "ProviderFatalError") {
            const added = [...series.values()].filter((s) => !current.symbols.has(s.symbol))
            yield* Effect.forEach(
              added,
              (s) => events.refuse(s, events.refusal(s.symbol, outcome.error.message)),
              {
                discard: true
              }
            )
          } else
            yield* Effect.zipRight(
              Effect.sleep(config.reconnect.baseDelay ?? "1 second"),
              Queue.offer(changes, undefined)
            )
          return
        }
        primary = candidate
        yield* closeGeneration(current)
        if (outcome._tag === "Lost") yield* lostConnection(current, outcome.error)
        else
          yield* Effect.logInfo("live connection reopened with the new symbol set").pipe(
            Effect.annotateLogs({ generation: candidate.n, symbols: candidate.symbols.size })
          )
        yield* events.waitUnlessAnswered(candidate)
      })

    /** A crash (a defect) is logged and the loop restarted; the connection never dies silently. */
    const supervised: Effect.Effect<never> = control.pipe(
      Effect.catchAllCause((cause) =>
        Cause.isInterruptedOnly(cause)
          ? Effect.interrupt
          : Effect.logError("live connection crashed; restarting it", cause).pipe(
              Effect.zipRight(Effect.suspend(() => (primary ? closeGeneration(primary) : Effect.void))),
              Effect.zipRight(
                Effect.sync(() => {
                  primary = undefined
                })
              ),
              Effect.zipRight(events.waitUnlessAnswered(undefined)),
              Effect.zipRight(Effect.sleep(RESTART_AFTER_CRASH)),
              Effect.zipRight(Effect.suspend(() => supervised))
            )
      )
    )

    const annotated = <A, E, R>(self: Effect.Effect<A, E, R>) =>
      Effect.annotateLogs(self, { provider, timeframe })
    yield* Effect.forkScoped(annotated(supervised))
    yield* Effect.forkScoped(annotated(writes.run))

    const setMembers = (members: ReadonlyArray<Member>) =>
      Effect.gen(function* () {
        const wanted = new Map(members.map((m) => [m.symbol, m]))
        let changed = false
        for (const [symbol, state] of series)
          if (wanted.get(symbol)?.id !== state.id) {
            yield* events.forget(symbol)
            changed = true
          }
        const added = members.filter((m) => !series.has(m.symbol))
        if (added.length > 0) {
          const stored = yield* repo.lastStored(
            provider,
            timeframe,
            added.map((m) => m.symbol)
          )
          for (const m of added) series.set(m.symbol, newSeries(m.id, m.symbol, m.mode, stored.get(m.symbol)))
          yield* Effect.logInfo("live subscriptions added").pipe(
            Effect.annotateLogs({ symbols: added.map((m) => m.symbol).join(","), provider, timeframe })
          )
        }
        for (const m of members) {
          const state = series.get(m.symbol)
          if (state) state.mode = m.mode
        }
        if (changed || added.length > 0) yield* Queue.offer(changes, undefined)
      })

    return { view, setMembers } satisfies ProviderConnection
  })
