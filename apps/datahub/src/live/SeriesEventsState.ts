/**
 * What a series' stream events do to its bookkeeping, as a pure reducer: the phase (waiting for
 * the provider's answer, filling the gap, trusted), the closed bars held until the gap is filled,
 * the newest closed bar, and the first suspect bar to ask from history again. ConnectionEvents
 * drives it and performs what it asks for (writes, fills); time comes in with the events.
 */
import { Timeframe } from "@quasar/domain"
import type { ProviderBar } from "@quasar/providers/sdk"
import { type Phase, releasable } from "./SeriesState"

export interface SeriesEvents {
  readonly phase: Phase
  /** Open time of the newest closed bar stored or handed to the writer; undefined: none yet. */
  readonly lastClosed: number | undefined
  /** Closed bars from the stream held while the series is not trusted, in arrival order. */
  readonly held: ReadonlyArray<ProviderBar>
  /** The oldest closed bar that arrived while the connection was silent: to be asked from history again. */
  readonly suspectFrom: number | undefined
}

export interface SeriesEventsConfig {
  readonly timeframe: Timeframe.Timeframe
  /** A closed bar arriving after this long without another sign of life is suspect. */
  readonly suspectMs: number
}

export type SeriesEventsEvent =
  /** The provider answered for the symbol. */
  | { readonly _tag: "Answered" }
  /** A gap fill starts now (`now` on the providers' clock). */
  | { readonly _tag: "FillStart"; readonly now: number }
  /** The fill started with `storedUntil` and `to` wrote `written` (open time → bar). */
  | {
      readonly _tag: "Filled"
      readonly storedUntil: number | undefined
      readonly to: number
      readonly written: ReadonlyMap<number, ProviderBar>
    }
  /** A bar from the stream; `now` and `lastLiveAt` (the connection's last sign of life) on the same clock. */
  | {
      readonly _tag: "Bar"
      readonly bar: ProviderBar
      readonly closed: boolean
      readonly now: number
      readonly lastLiveAt: number
    }
  /** A (re)connect that has not answered for the series: it waits for a fresh gap fill. */
  | { readonly _tag: "Wait" }

export type SeriesEventsOutput =
  /** Start a gap fill (the driver feeds `FillStart` with the time it starts at). */
  | { readonly _tag: "StartFill" }
  /** Ask history for [from, to) unless `from >= to`, then feed `Filled` with `storedUntil` and `to`. */
  | {
      readonly _tag: "Fill"
      readonly storedUntil: number | undefined
      readonly from: number
      readonly to: number
    }
  | { readonly _tag: "Forming"; readonly bar: ProviderBar }
  /** Closed bars to write, oldest first. */
  | { readonly _tag: "Closed"; readonly bars: ReadonlyArray<ProviderBar> }
  /** Bars history already wrote, for `/live` clients, oldest first. */
  | { readonly _tag: "Announce"; readonly bars: ReadonlyArray<ProviderBar> }
  | { readonly _tag: "Streaming" }
  /** Ask history for the bars the trusted stream skipped, [from, to). */
  | { readonly _tag: "FillSkipped"; readonly from: number; readonly to: number }

export interface SeriesEventsStep {
  readonly state: SeriesEvents
  readonly outputs: ReadonlyArray<SeriesEventsOutput>
}

export const initialSeriesEvents = (lastStored: number | undefined): SeriesEvents => ({
  phase: "waiting",
  lastClosed: lastStored,
  held: [],
  suspectFrom: undefined
})

const none: ReadonlyArray<SeriesEventsOutput> = []

const same = (state: SeriesEvents): SeriesEventsStep => ({ state, outputs: none })

export const stepSeriesEvents = (
  config: SeriesEventsConfig,
  state: SeriesEvents,
  event: SeriesEventsEvent
): SeriesEventsStep => {
  switch (event._tag) {
    case "Answered":
      return state.phase === "waiting" ? { state, outputs: [{ _tag: "StartFill" }] } : same(state)
    case "FillStart": {
      // History is asked from the last stored bar (or the first suspect one) up to the forming
      // bar's open. The last stored bar is asked again because it may be a provider's guess (a
      // bar its timer closed before the exchange's final update) whose revision never came: the
      // runner that stored it may have died first, and its suspect mark with it.
      const storedUntil = state.lastClosed
      const to = Timeframe.barOpen(config.timeframe, event.now)
      const fromStored = storedUntil ?? to
      const from = Math.min(fromStored, state.suspectFrom ?? fromStored)
      return { state: { ...state, phase: "filling" }, outputs: [{ _tag: "Fill", storedUntil, from, to }] }
    }
    case "Filled":
      return filled(state, event.storedUntil, event.to, event.written)
    case "Bar":
      return onBar(config, state, event.bar, event.closed, event.now - event.lastLiveAt > config.suspectMs)
    case "Wait":
      return state.phase === "waiting" ? same(state) : same({ ...state, phase: "waiting" })
  }
}

/**
 * The gap is filled: held bars history did not deliver are written, and the stream is trusted.
 * Bars history wrote over ones the stream had already closed (suspect bars, which the provider's
 * timer closed on stale values) are announced too: they replace what `/live` clients were sent.
 * A fill that ends after its series stopped filling (it waits for another) changes nothing.
 */
const filled = (
  state: SeriesEvents,
  storedUntil: number | undefined,
  to: number,
  written: ReadonlyMap<number, ProviderBar>
): SeriesEventsStep => {
  if (state.phase !== "filling") return same(state)
  const release = releasable(state.held, storedUntil, written)
  const outputs: Array<SeriesEventsOutput> = []
  if (storedUntil !== undefined)
    outputs.push({
      _tag: "Announce",
      bars: [...written.values()].filter((bar) => bar.ts <= storedUntil).sort((a, b) => a.ts - b.ts)
    })
  let last = state.lastClosed ?? Number.NEGATIVE_INFINITY
  for (const ts of written.keys()) last = Math.max(last, ts)
  for (const bar of release) last = Math.max(last, bar.ts)
  outputs.push({ _tag: "Closed", bars: release }, { _tag: "Streaming" })
  return {
    state: {
      phase: "trusted",
      held: [],
      lastClosed: Number.isFinite(last) ? last : undefined,
      suspectFrom: state.suspectFrom !== undefined && state.suspectFrom < to ? undefined : state.suspectFrom
    },
    outputs
  }
}

/**
 * A closed bar that arrives while the connection has shown no other sign of life for
 * `suspectMs` was closed by the provider's own timer on stale values, so history is asked for it
 * again once the series' stream is alive (its next forming bar) or at the reconnect. Bars the
 * trusted stream skipped before a closed bar (a minute without trades gets no candle) are asked
 * from history, so that a hole in the stored series always means a bar is missing.
 */
const onBar = (
  config: SeriesEventsConfig,
  state: SeriesEvents,
  bar: ProviderBar,
  closed: boolean,
  suspect: boolean
): SeriesEventsStep => {
  // A closed bar again for the last one closed is the provider revising it (Kraken: a late
  // update after its timer closed the bar); anything else older is stale.
  const last = state.lastClosed
  if (last !== undefined && (bar.ts < last || (bar.ts === last && !closed))) return same(state)
  if (!closed) {
    const outputs: Array<SeriesEventsOutput> = [{ _tag: "Forming", bar }]
    if (state.suspectFrom !== undefined && state.phase === "trusted") outputs.push({ _tag: "StartFill" })
    return { state, outputs }
  }
  const suspectFrom = suspect ? Math.min(state.suspectFrom ?? bar.ts, bar.ts) : state.suspectFrom
  if (state.phase !== "trusted") return same({ ...state, suspectFrom, held: [...state.held, bar] })
  const skippedFrom = last === undefined ? bar.ts : last + Timeframe.durationMs(config.timeframe)
  const next = { ...state, suspectFrom, lastClosed: bar.ts }
  const outputs: Array<SeriesEventsOutput> = [{ _tag: "Closed", bars: [bar] }]
  if (skippedFrom >= bar.ts) return { state: next, outputs }
  // A suspect bar is asked from history again anyway: the skipped ones go with it.
  if (!suspect)
    return { state: next, outputs: [...outputs, { _tag: "FillSkipped", from: skippedFrom, to: bar.ts }] }
  return { state: { ...next, suspectFrom: Math.min(suspectFrom ?? skippedFrom, skippedFrom) }, outputs }
}
