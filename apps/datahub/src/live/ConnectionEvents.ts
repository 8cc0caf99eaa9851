/**
 * What a provider connection does with each event of its streams. Events never wait for the
 * database: bars go to the connection's LiveWrites, and a series answered after a (re)connect
 * starts its gap fill on a fiber of its own (a few at a time), holding its closed bars until the
 * fill is written (SeriesState), so a slow history request delays nothing else.
 */
import type { Timeframe } from "@quasar/domain"
import type { LiveEvent, ProviderBar } from "@quasar/providers/sdk"
import { Duration, Effect, FiberMap, FiberSet } from "effect"
import { BarSource } from "../collect/BarSource"
import { providerRetrySchedule } from "../sandbox/providerHost"
import { SETTINGS_REFUSAL } from "../sandbox/settingsNotices"
import type { BarWriter } from "../store/BarWriter"
import { fillGap, type GapRange } from "./GapFill"
import { answer, type Generation } from "./Generation"
import { LiveConfig } from "./LiveConfig"
import { LiveRepo } from "./LiveRepo"
import { LiveSource } from "./LiveSource"
import type { LiveWrites } from "./LiveWrites"
import { type SeriesEventsEvent, type SeriesEventsOutput, stepSeriesEvents } from "./SeriesEventsState"
import type { ConnectionStatus, SeriesState } from "./SeriesState"

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
    const source = yield* LiveSource
    const fills = yield* FiberMap.make<string>()
    const skipped = yield* FiberSet.make()
    const fillPermits = yield* Effect.makeSemaphore(config.fillConcurrency)
    const seriesConfig = { timeframe, suspectMs: Duration.toMillis(config.suspectAfter) }
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
     * Asks history for the range `Fill` gives on a fiber of the series' own (the series holds its
     * stream's closed bars meanwhile), then trusts the stream unless the series left meanwhile.
     */
    const runFill = (state: SeriesState, storedUntil: number | undefined, from: number, to: number) => {
      const fill =
        from >= to
          ? Effect.succeed<ReadonlyMap<number, ProviderBar>>(new Map())
          : fillPermits.withPermits(1)(fillUntilDone({ provider, symbol: state.symbol, timeframe, from, to }))
      return Effect.asVoid(
        FiberMap.run(
          fills,
          state.symbol,
          fill.pipe(
            Effect.flatMap((written) =>
              Effect.suspend(() =>
                series.get(state.symbol) === state
                  ? feed(state, { _tag: "Filled", storedUntil, to, written })
                  : Effect.void
              )
            ),
            Effect.provide(fillContext),
            Effect.provideService(BarSource, bars)
          )
        )
      )
    }

    /** Starts a gap fill now (on the providers' clock, which the forming bar's open follows). */
    const startFill = (state: SeriesState) =>
      Effect.flatMap(source.now, (now) => feed(state, { _tag: "FillStart", now }))

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
     * Writes are handed to the connection's LiveWrites at once; fills are returned to run, so an
     * event that starts none is done synchronously.
     */
    const perform = (state: SeriesState, output: SeriesEventsOutput): Effect.Effect<void> => {
      switch (output._tag) {
        case "StartFill":
          return startFill(state)
        case "Fill":
          return runFill(state, output.storedUntil, output.from, output.to)
        case "FillSkipped":
          return fillSkipped(state.symbol, output.from, output.to)
        case "Forming":
          writes.forming(state, output.bar)
          return Effect.void
        case "Closed":
          writes.closed(state, output.bars)
          return Effect.void
        case "Announce":
          writes.announce(state, output.bars)
          return Effect.void
        case "Streaming":
          writes.streaming(state)
          return Effect.void
      }
    }

    /**
     * Steps `state`'s bookkeeping with `event`, keeps the result on `state` (which the writer, the
     * status board and later connections share), and performs what the step asks for.
     */
    const feed = (state: SeriesState, event: SeriesEventsEvent): Effect.Effect<void> => {
      const step = stepSeriesEvents(seriesConfig, state, event)
      state.phase = step.state.phase
      state.lastClosed = step.state.lastClosed
      state.held = step.state.held
      state.suspectFrom = step.state.suspectFrom
      let effect: Effect.Effect<void> = Effect.void
      for (const output of step.outputs) effect = andThen(effect, perform(state, output))
      return effect
    }

    const answered = (gen: Generation, symbol: string) =>
      Effect.suspend(() => {
        answer(gen, symbol)
        const state = series.get(symbol)
        return state === undefined ? Effect.void : feed(state, { _tag: "Answered" })
      })

    /**
     * A closed bar that arrives while the connection has shown no other sign of life (no update,
     * heartbeat or ack for `suspectAfter`) was closed by the provider's own timer on stale values
     * (Kraken: end + grace during a silence), so history is asked for it again once the series'
     * stream is alive — or at the reconnect — and its version, written later, wins. The silence is
     * measured on the service's Clock, which `now` and `gen.lastLiveAt` are read from.
     */
    const onBar = (
      gen: Generation,
      symbol: string,
      bar: ProviderBar,
      closed: boolean,
      now: number
    ): Effect.Effect<void> => {
      const state = series.get(symbol)
      if (state === undefined) return Effect.void
      return feed(state, { _tag: "Bar", bar, closed, now, lastLiveAt: gen.lastLiveAt })
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

    /**
     * Handles one event that arrived at `now` (the service's Clock); returns `Effect.void` when
     * everything was done synchronously (the common case).
     */
    const handle = (gen: Generation, event: LiveEvent, now: number): Effect.Effect<void> => {
      const primary = options.isPrimary(gen)
      const stateChange =
        primary && status.state !== "connected" ? options.setState("connected") : Effect.void
      if (primary) status.lastMessageAt = now
      // Anything but a closed bar (which the provider may make up on a timer) shows the connection alive.
      if (event.type !== "bar" || !event.closed) gen.lastLiveAt = now
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
            return onBar(gen, event.symbol, event.bar, event.closed, now)
          return andThen(
            andThen(stateChange, first),
            Effect.suspend(() => onBar(gen, event.symbol, event.bar, event.closed, now))
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
            Effect.suspend(() => feed(state, { _tag: "Wait" })),
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
