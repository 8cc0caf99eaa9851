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
import { Cause, Clock, Deferred, Duration, Effect, Metric, Queue, Schedule } from "effect"
import { providerRetrySchedule } from "../sandbox/providerHost"
import { isSettingsRefusal } from "../sandbox/settingsNotices"
import { makeConnectionEvents } from "./ConnectionEvents"
import { closeGeneration, type Generation, openGeneration } from "./Generation"
import { LiveConfig } from "./LiveConfig"
import { LiveRepo } from "./LiveRepo"
import { LiveSource } from "./LiveSource"
import { makeLiveWrites } from "./LiveWrites"
import {
  initialLifecycle,
  type LifecycleEvent,
  type LifecycleOutput,
  stepLifecycle
} from "./ProviderConnectionState"
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
    let lifecycle = initialLifecycle(Duration.toMillis(config.healthyAfter))
    /** The generations open now, by number: the primary, and a handover's candidate. */
    const open = new Map<number, Generation>()
    const primary = (): Generation | undefined =>
      lifecycle.primary === null ? undefined : open.get(lifecycle.primary.n)
    const view: ConnectionView = { status, series, symbols: () => [...(primary()?.symbols ?? [])] }
    board.add(view)
    const setState = (state: ConnectionStatus["state"]) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => board.setState(status, state, now))

    // Finalizers run last-added first: the fibers stop, then the sockets, then what gathered is written.
    yield* Effect.addFinalizer(() =>
      writes.flush.pipe(
        Effect.timeout(Duration.seconds(10)),
        Effect.ignore,
        Effect.zipRight(board.remove(view))
      )
    )
    yield* Effect.addFinalizer(() => Effect.suspend(() => closeAll))

    const events = yield* makeConnectionEvents({
      provider,
      timeframe,
      status,
      series,
      writes,
      isPrimary: (gen) => gen === primary(),
      setState
    })

    const close = (n: number) =>
      Effect.suspend(() => {
        const gen = open.get(n)
        open.delete(n)
        return gen ? closeGeneration(gen) : Effect.void
      })
    const closeAll = Effect.suspend(() => {
      const p = primary()
      return p ? close(p.n) : Effect.void
    })

    const openGen = (n: number, symbols: ReadonlyArray<string>) =>
      openGeneration({
        source,
        n,
        provider,
        timeframe,
        symbols,
        staleAfter: config.staleAfter,
        handoverTimeout: config.handoverTimeout,
        handle: events.handle,
        ready: writes.capacity
      }).pipe(
        Effect.tap((gen) => {
          open.set(n, gen)
          return Effect.logInfo("live connection opening").pipe(
            Effect.annotateLogs({ generation: gen.n, symbols: gen.symbols.size })
          )
        })
      )
    const info = (gen: Generation) =>
      Effect.map(Clock.currentTimeMillis, (openedAt) => ({ n: gen.n, symbols: gen.symbols, openedAt }))

    const makeBackoff = Schedule.driver(
      providerRetrySchedule({ ...config.reconnect, maxAttempts: Number.MAX_SAFE_INTEGER })
    )
    /** The reconnect backoff of the running control loop (a restarted loop starts a new one). */
    let backoff: Effect.Effect.Success<typeof makeBackoff> | undefined

    /** Steps the lifecycle and performs its outputs in order; some wait and feed the next event. */
    const run = (event: LifecycleEvent<ProviderError>): Effect.Effect<void> =>
      Effect.suspend(() => {
        const next = stepLifecycle(lifecycle, event)
        lifecycle = next.state
        return Effect.forEach(next.outputs, perform, { discard: true })
      })

    const perform = (output: LifecycleOutput<ProviderError>): Effect.Effect<void> => {
      switch (output._tag) {
        case "SetState":
          return setState(output.state)
        case "Close":
          return close(output.n)
        case "Open":
          return openGen(output.n, output.symbols).pipe(
            Effect.flatMap(info),
            Effect.flatMap((generation) => run({ _tag: "Opened", generation }))
          )
        case "AwaitChange":
          return Queue.take(changes)
        case "AwaitEndOrChange":
          return awaitEndOrChange
        case "Handover":
          return handover(output.n, output.symbols)
        case "ReportLost":
          return reportLost(output.n, output.reason, output.reconnects)
        case "ReportReopened":
          return Effect.logInfo("live connection reopened with the new symbol set").pipe(
            Effect.annotateLogs({ generation: output.n, symbols: output.symbols })
          )
        case "ReportHandoverFailed":
          return Effect.logWarning(
            "could not reopen the live connection with new symbols; keeping the current one"
          ).pipe(Effect.annotateLogs({ error: output.reason.message }))
        case "WaitUnlessAnswered":
          return events.waitUnlessAnswered(output.n === null ? undefined : open.get(output.n))
        case "Refuse":
          return refuse(output.symbols, output.message)
        case "ResetBackoff":
          return backoff ? backoff.reset : Effect.void
        case "Backoff":
          return backoff ? backoff.next(output.reason).pipe(Effect.ignore) : Effect.void
        case "RetryChangeLater":
          return Effect.zipRight(
            Effect.sleep(config.reconnect.baseDelay ?? "1 second"),
            Queue.offer(changes, undefined)
          )
        case "RestartLater":
          return Effect.sleep(RESTART_AFTER_CRASH)
      }
    }

    const awaitEndOrChange = Effect.suspend(() => {
      const current = primary()
      if (current === undefined) return Effect.void
      return Effect.raceFirst(
        Effect.map(Deferred.await(current.ended), (error) => ({ _tag: "Ended", error }) as const),
        Effect.as(Queue.take(changes), { _tag: "Changed" } as const)
      ).pipe(
        Effect.flatMap((next) =>
          next._tag === "Changed"
            ? Effect.sleep(config.changeDebounce).pipe(
                Effect.zipRight(Queue.takeAll(changes)),
                Effect.zipRight(Effect.suspend(() => run({ _tag: "Changed", wanted: [...series.keys()] })))
              )
            : Effect.flatMap(Clock.currentTimeMillis, (now) =>
                run({ _tag: "Ended", reason: next.error, now })
              )
        )
      )
    })

    /** Opens a connection with the new symbol set and switches to it once it answered for all. */
    const handover = (n: number, symbols: ReadonlyArray<string>) =>
      Effect.gen(function* () {
        const current = primary()
        const candidate = yield* openGen(n, symbols)
        const generation = yield* info(candidate)
        const outcome = yield* Effect.raceAll([
          Effect.as(Deferred.await(candidate.ready), { _tag: "Ready" } as const),
          Effect.map(Deferred.await(candidate.ended), (error) => ({ _tag: "Failed", error }) as const),
          ...(current
            ? [Effect.map(Deferred.await(current.ended), (error) => ({ _tag: "Lost", error }) as const)]
            : [])
        ])
        yield* outcome._tag === "Failed"
          ? run({
              _tag: "HandoverFailed",
              candidate: generation,
              reason: outcome.error,
              wanted: [...series.keys()]
            })
          : run({
              _tag: "HandedOver",
              candidate: generation,
              lost: outcome._tag === "Lost" ? outcome.error : null
            })
      })

    const control = Effect.gen(function* () {
      backoff = yield* makeBackoff
      while (true) yield* run({ _tag: "Tick", wanted: [...series.keys()] })
    })

    const reportLost = (n: number, error: ProviderError, reconnects: number) =>
      Effect.gen(function* () {
        status.reconnects = reconnects
        status.lastError = error.message
        yield* Metric.increment(Metric.tagged(Metrics.liveReconnects, "provider", provider))
        // Missing settings are reported once per provider, at warn (settingsNotices.ts).
        yield* (isSettingsRefusal(error) ? Effect.logInfo : Effect.logWarning)(
          "live connection lost; its series wait for a gap fill after the reconnect"
        ).pipe(Effect.annotateLogs({ generation: n, error: error.message, reconnects }))
      })

    /** Puts these symbols' subscriptions (all when null) in error until an operator resumes them. */
    const refuse = (symbols: ReadonlyArray<string> | null, message: string) =>
      Effect.forEach(
        symbols === null ? [...series.values()] : symbols.flatMap((s) => series.get(s) ?? []),
        (state) => events.refuse(state, events.refusal(state.symbol, message)),
        { discard: true }
      )

    /** A crash (a defect) is logged and the loop restarted; the connection never dies silently. */
    const supervised: Effect.Effect<never> = control.pipe(
      Effect.catchAllCause((cause) =>
        Cause.isInterruptedOnly(cause)
          ? Effect.interrupt
          : Effect.logError("live connection crashed; restarting it", cause).pipe(
              Effect.zipRight(run({ _tag: "Crashed" })),
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
