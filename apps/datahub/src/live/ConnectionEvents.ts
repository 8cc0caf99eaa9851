/**
 * What a provider connection does with each event of its streams. Events never wait for the
 * database: bars go to the connection's LiveWrites, and a series answered after a (re)connect
 * starts its gap fill on a fiber of its own (a few at a time), holding its closed bars until the
 * fill is written (SeriesState), so a slow history request delays nothing else.
 */
import { Timeframe } from "@quasar/domain"
import { Duration, Effect, FiberMap, FiberSet } from "effect"
import type { LiveEvent, ProviderBar } from "../../../../libs/providers/src/sdk/types"
import { BarSource } from "../collect/BarSource"
import { providerRetrySchedule } from "../sandbox/providerHost"
import { SETTINGS_REFUSAL } from "../sandbox/settingsNotices"
import type { BarWriter } from "../store/BarWriter"
import { fillGap, type GapRange } from "./GapFill"
import { answer, type Generation } from "./Generation"
import { LiveConfig } from "./LiveConfig"
import { LiveRepo } from "./LiveRepo"
import type { LiveWrites } from "./LiveWrites"
import { type ConnectionStatus, releasable, type SeriesState } from "./SeriesState"

export interface EventsOptions {
  readonly provider: string
  readonly timeframe: Timeframe.Timeframe
  readonly status: ConnectionStatus
  readonly series: Map<string, SeriesState>
  readonly writes: LiveWrites
  /** Whether `gen` is the connection's current generation (its events drive the status). */
  readonly isPrimary: (gen: Generation) => boolean
  readonly setState: (state: ConnectionStatus["state"]) => Effect.Effect<void>
}

export const makeConnectionEvents = (options: EventsOptions) =>
  Effect.gen(function* () {
    const { provider, timeframe, status, series, writes } = options
    const config = yield* LiveConfig
    const repo = yield* LiveRepo
    const fillContext = yield* Effect.context<BarWriter>()
    const bars = yield* BarSource
    const fills = yield* FiberMap.make<string>()
    const skipped = yield* FiberSet.make()
    const fillPermits = yield* Effect.makeSemaphore(config.fillConcurrency)
    const barMs = Timeframe.durationMs(timeframe)
    const reconnectSchedule = providerRetrySchedule({
      ...config.reconnect,
      maxAttempts: Number.MAX_SAFE_INTEGER
    })

    /** Writes history over [last stored + 1 bar, the forming bar's open), retrying until it can. */
    const fillUntilDone = (gap: GapRange) =>
      fillGap(gap, config.fillRetry).pipe(
        Effect.tapError((e) =>
          Effect.logWarning("gap fill failed; trying again after a backoff").pipe(
            Effect.annotateLogs({ symbol: gap.symbol, error: e.message })
          )
        ),
        Effect.retry(reconnectSchedule),
        Effect.catchAll((e) =>
          Effect.logError("history refused the gap fill: closed bars in this range may be missing").pipe(
            Effect.annotateLogs({
              symbol: gap.symbol,
              from: new Date(gap.from).toISOString(),
              to: new Date(gap.to).toISOString(),
              error: e.message
            }),
            Effect.as<ReadonlyMap<number, ProviderBar>>(new Map())
          )
        )
      )

    /**
     * The gap is filled: held bars history did not deliver are written, and the stream is trusted.
     * Bars history wrote over ones the stream had already closed (suspect bars, which the
     * provider's timer closed on stale values) go to `/live` clients too: they replace what those
     * clients were sent.
     */
    const trust = (
      state: SeriesState,
      storedUntil: number | undefined,
      to: number,
      written: ReadonlyMap<number, ProviderBar>
    ) => {
      if (series.get(state.symbol) !== state || state.phase !== "filling") return
      const release = releasable(state.held, storedUntil, written)
      if (storedUntil !== undefined)
        writes.announce(
          state,
          [...written.values()].filter((bar) => bar.ts <= storedUntil).sort((a, b) => a.ts - b.ts)
        )
      let last = state.lastClosed ?? Number.NEGATIVE_INFINITY
      for (const ts of written.keys()) last = Math.max(last, ts)
      for (const bar of release) last = Math.max(last, bar.ts)
      state.held = []
      state.lastClosed = Number.isFinite(last) ? last : undefined
      if (state.suspectFrom !== undefined && state.suspectFrom < to) state.suspectFrom = undefined
      state.phase = "trusted"
      writes.closed(state, release)
      writes.streaming(state)
    }

    /**
     * Asks history for [the bar after the last stored one (or the first suspect one), the forming
     * bar's open) on a fiber of the series' own, holding its stream's closed bars meanwhile.
     */
    const startFill = (state: SeriesState) =>
      Effect.suspend(() => {
        state.phase = "filling"
        const storedUntil = state.lastClosed
        const to = Timeframe.barOpen(timeframe, config.now())
        const after = storedUntil === undefined ? to : storedUntil + barMs
        const from = Math.min(after, state.suspectFrom ?? after)
        const fill =
          from >= to
            ? Effect.succeed<ReadonlyMap<number, ProviderBar>>(new Map())
            : fillPermits.withPermits(1)(
                fillUntilDone({ provider, symbol: state.symbol, timeframe, from, to })
              )
        return FiberMap.run(
          fills,
          state.symbol,
          fill.pipe(
            Effect.flatMap((written) => Effect.sync(() => trust(state, storedUntil, to, written))),
            Effect.provide(fillContext),
            Effect.provideService(BarSource, bars)
          )
        )
      })

    const answered = (gen: Generation, symbol: string) =>
      Effect.suspend(() => {
        answer(gen, symbol)
        const state = series.get(symbol)
        return state?.phase === "waiting" ? Effect.asVoid(startFill(state)) : Effect.void
      })

    const suspectMs = Duration.toMillis(config.suspectAfter)

    /**
     * Bars the trusted stream skipped before a closed bar: a minute without trades gets no candle
     * on a WebSocket (Kraken), while history serves it (flat). They are asked from history on a
     * fiber of their own, so that a hole in the stored series always means a bar is missing. Only
     * the skipped range is asked: it lies before a bar that closed, so history has it final.
     * These short requests do not take the fill permits: a reconnect's gap fill, which holds its
     * series' stream back, must not wait behind them (the provider's rate limit still applies).
     */
    const fillSkipped = (symbol: string, from: number, to: number) =>
      Effect.asVoid(
        FiberSet.run(
          skipped,
          fillUntilDone({ provider, symbol, timeframe, from, to }).pipe(
            Effect.provide(fillContext),
            Effect.provideService(BarSource, bars)
          )
        )
      )

    /**
     * A closed bar that arrives while the connection has shown no other sign of life (no update,
     * heartbeat or ack for `suspectAfter`) was closed by the provider's own timer on stale values
     * (Kraken: end + grace during a silence), so history is asked for it again once the series'
     * stream is alive — or at the reconnect — and its version, written later, wins.
     */
    const onBar = (
      gen: Generation,
      symbol: string,
      bar: ProviderBar,
      closed: boolean
    ): Effect.Effect<void> => {
      const state = series.get(symbol)
      // A closed bar again for the last one closed is the provider revising it (Kraken: a late
      // update after its timer closed the bar); anything else older is stale.
      const last = state?.lastClosed
      if (state === undefined || (last !== undefined && (bar.ts < last || (bar.ts === last && !closed))))
        return Effect.void
      if (!closed) {
        writes.forming(state, bar)
        return state.suspectFrom !== undefined && state.phase === "trusted"
          ? Effect.asVoid(startFill(state))
          : Effect.void
      }
      const suspect = Date.now() - gen.lastLiveAt > suspectMs
      if (suspect) state.suspectFrom = Math.min(state.suspectFrom ?? bar.ts, bar.ts)
      if (state.phase !== "trusted") state.held.push(bar)
      else {
        const skippedFrom = state.lastClosed === undefined ? bar.ts : state.lastClosed + barMs
        state.lastClosed = bar.ts
        writes.closed(state, [bar])
        if (skippedFrom < bar.ts) {
          // A suspect bar is asked from history again anyway: the skipped ones go with it.
          if (!suspect) return fillSkipped(state.symbol, skippedFrom, bar.ts)
          state.suspectFrom = Math.min(state.suspectFrom ?? skippedFrom, skippedFrom)
        }
      }
      return Effect.void
    }

    /** Takes `state` out of this connection and puts its subscription in error with `message`. */
    const refuse = (state: SeriesState, message: string) =>
      Effect.gen(function* () {
        if (series.get(state.symbol) === state) series.delete(state.symbol)
        yield* FiberMap.remove(fills, state.symbol)
        // Missing settings are reported once per provider, at warn (settingsNotices.ts).
        const log = message.includes(SETTINGS_REFUSAL) ? Effect.logInfo : Effect.logError
        yield* log("live subscription refused by the provider").pipe(
          Effect.annotateLogs({ subscription: state.id, symbol: state.symbol, error: message })
        )
        yield* repo
          .recordRejected(state.id, message)
          .pipe(
            Effect.catchAll((e) =>
              Effect.logWarning("could not record the refusal").pipe(
                Effect.annotateLogs({ error: e.message })
              )
            )
          )
      })

    const refusal = (symbol: string, reason: string) =>
      `${provider} refused live ${timeframe} bars of ${symbol}: ${reason}; check the symbol at the provider, then resume the subscription`

    /** `first` then `second`, without building anything when either is `Effect.void`. */
    const andThen = (first: Effect.Effect<void>, second: Effect.Effect<void>) =>
      first === Effect.void ? second : second === Effect.void ? first : Effect.zipRight(first, second)

    /** Handles one event; returns `Effect.void` when everything was done synchronously (the common case). */
    const handle = (gen: Generation, event: LiveEvent): Effect.Effect<void> => {
      const primary = options.isPrimary(gen)
      const stateChange =
        primary && status.state !== "connected" ? options.setState("connected") : Effect.void
      if (primary) status.lastMessageAt = config.now()
      // Anything but a closed bar (which the provider may make up on a timer) shows the connection alive.
      if (event.type !== "bar" || !event.closed) gen.lastLiveAt = Date.now()
      switch (event.type) {
        case "heartbeat":
          return stateChange
        case "subscribed":
          return andThen(stateChange, answered(gen, event.symbol))
        case "rejected": {
          answer(gen, event.symbol)
          const state = series.get(event.symbol)
          return state === undefined
            ? stateChange
            : andThen(stateChange, refuse(state, refusal(event.symbol, event.reason)))
        }
        case "bar": {
          // Answered already and not waiting for a fill (every bar after the first): nothing to start.
          const first =
            gen.answered.has(event.symbol) && series.get(event.symbol)?.phase !== "waiting"
              ? Effect.void
              : answered(gen, event.symbol)
          // The bar is taken now only when nothing before it has to run first.
          if (stateChange === Effect.void && first === Effect.void)
            return onBar(gen, event.symbol, event.bar, event.closed)
          return andThen(
            andThen(stateChange, first),
            Effect.suspend(() => onBar(gen, event.symbol, event.bar, event.closed))
          )
        }
      }
    }

    /** Series the connection `gen` has not answered for wait for a fresh gap fill. */
    const waitUnlessAnswered = (gen: Generation | undefined) =>
      Effect.forEach(
        [...series.values()].filter((s) => s.phase !== "waiting" && !gen?.answered.has(s.symbol)),
        (state) =>
          Effect.zipRight(
            Effect.sync(() => {
              state.phase = "waiting"
            }),
            FiberMap.remove(fills, state.symbol)
          ),
        { discard: true }
      )

    /** Stops following `symbol` (removed): its fill, if any, is interrupted. */
    const forget = (symbol: string) =>
      Effect.zipRight(
        Effect.sync(() => series.delete(symbol)),
        FiberMap.remove(fills, symbol)
      )

    return { handle, waitUnlessAnswered, refuse, refusal, forget }
  })

export type ConnectionEvents = Effect.Effect.Success<ReturnType<typeof makeConnectionEvents>>
