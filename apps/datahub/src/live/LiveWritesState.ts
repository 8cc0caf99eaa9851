/**
 * What gathers between a connection's batches, as a pure reducer: the newest forming bar of each
 * series (only the newest matters), closed bars all kept in the order they closed, bars already
 * stored that `/live` clients get with the next batch, and the series whose stream is trusted now.
 * Cutting a batch takes all of it; what was written is noted as progress until it is recorded.
 * LiveWrites drives it and performs what it asks for.
 *
 * Events arrive for every bar of a busy feed, so a step costs the same however much has gathered:
 * bars are prepended to persistent lists (newest first), and the forming bars are reduced to the
 * newest of each series when a batch is cut, or once superseded versions outnumber the series
 * (so a feed read while the database is away holds about one forming bar per series).
 */

import type { ProviderBar } from "@quasar/providers/sdk"
import { List } from "effect"
import type { SeriesState } from "./SeriesState"

export interface Item {
  readonly state: SeriesState
  readonly bar: ProviderBar
}

export interface LiveWritesState {
  /** Newest first, superseded versions included. */
  readonly forming: List.List<Item>
  readonly formingLength: number
  /** Series among the forming bars when they were last reduced. */
  readonly formingSeries: number
  /** Newest first. */
  readonly closed: List.List<Item>
  /** Newest first. */
  readonly announced: List.List<Item>
  readonly trusted: ReadonlySet<number>
  /** Series id → open time of its newest bar written, not yet recorded. */
  readonly latest: ReadonlyMap<number, number>
  /** Series trusted in a published batch, not yet recorded. */
  readonly nowTrusted: ReadonlySet<number>
}

export interface Batch {
  readonly forming: ReadonlyArray<Item>
  /** Oldest first. */
  readonly closed: ReadonlyArray<Item>
  /** Oldest first. */
  readonly announced: ReadonlyArray<Item>
  readonly trusted: ReadonlySet<number>
}

export type LiveWritesEvent =
  | { readonly _tag: "Forming"; readonly state: SeriesState; readonly bar: ProviderBar }
  /** Closed bars of a trusted series, oldest first. */
  | { readonly _tag: "Closed"; readonly state: SeriesState; readonly bars: ReadonlyArray<ProviderBar> }
  /** Closed bars already stored (by a gap fill), oldest first. */
  | { readonly _tag: "Announce"; readonly state: SeriesState; readonly bars: ReadonlyArray<ProviderBar> }
  | { readonly _tag: "Streaming"; readonly state: SeriesState }
  /** Take what gathered as a batch. */
  | { readonly _tag: "Cut" }
  /** A batch is committed and published: `written` are its closed bars that were written. */
  | {
      readonly _tag: "Published"
      readonly written: ReadonlyArray<Item>
      readonly trusted: ReadonlySet<number>
    }
  /** Time to record the progress noted so far. */
  | { readonly _tag: "Record" }

export type LiveWritesOutput =
  /** Something gathered: a batch can be cut. */
  | { readonly _tag: "Wake" }
  | { readonly _tag: "Batch"; readonly batch: Batch }
  /** Record these (either may be empty). */
  | {
      readonly _tag: "RecordProgress"
      readonly latest: ReadonlyMap<number, number>
      readonly trusted: ReadonlySet<number>
    }

export interface LiveWritesStep {
  readonly state: LiveWritesState
  readonly outputs: ReadonlyArray<LiveWritesOutput>
}

export const initialLiveWrites: LiveWritesState = {
  forming: List.empty(),
  formingLength: 0,
  formingSeries: 0,
  closed: List.empty(),
  announced: List.empty(),
  trusted: new Set(),
  latest: new Map(),
  nowTrusted: new Set()
}

/** Whether anything gathered since the last cut. */
export const hasGathered = (state: LiveWritesState): boolean =>
  List.isCons(state.forming) ||
  List.isCons(state.closed) ||
  List.isCons(state.announced) ||
  state.trusted.size > 0

const NOTHING: ReadonlyArray<LiveWritesOutput> = []
const WAKE: ReadonlyArray<LiveWritesOutput> = [{ _tag: "Wake" }]

const prependAll = (list: List.List<Item>, state: SeriesState, bars: ReadonlyArray<ProviderBar>) => {
  let out = list
  for (const bar of bars) out = List.prepend(out, { state, bar })
  return out
}

const oldestFirst = (list: List.List<Item>): Array<Item> => List.toArray(list).reverse()

/** The newest forming bar of each series, in the order each series' first one arrived. */
const newestPerSeries = (forming: List.List<Item>): Array<Item> => {
  const bySymbol = new Map<string, Item>()
  for (const item of oldestFirst(forming)) bySymbol.set(item.state.symbol, item)
  return [...bySymbol.values()]
}

/** Superseded forming bars tolerated beyond one per series before they are dropped. */
const FORMING_SLACK = 1_024

export const stepLiveWrites = (state: LiveWritesState, event: LiveWritesEvent): LiveWritesStep => {
  switch (event._tag) {
    case "Forming": {
      const forming = List.prepend(state.forming, { state: event.state, bar: event.bar })
      const formingLength = state.formingLength + 1
      if (formingLength <= 2 * state.formingSeries + FORMING_SLACK)
        return { state: { ...state, forming, formingLength }, outputs: WAKE }
      const newest = newestPerSeries(forming)
      return {
        state: {
          ...state,
          forming: List.fromIterable(newest.reverse()),
          formingLength: newest.length,
          formingSeries: newest.length
        },
        outputs: WAKE
      }
    }
    case "Closed":
      if (event.bars.length === 0) return { state, outputs: NOTHING }
      return { state: { ...state, closed: prependAll(state.closed, event.state, event.bars) }, outputs: WAKE }
    case "Announce":
      if (event.bars.length === 0) return { state, outputs: NOTHING }
      return {
        state: { ...state, announced: prependAll(state.announced, event.state, event.bars) },
        outputs: WAKE
      }
    case "Streaming":
      return { state: { ...state, trusted: new Set(state.trusted).add(event.state.id) }, outputs: WAKE }
    case "Cut": {
      if (!hasGathered(state)) return { state, outputs: NOTHING }
      const batch: Batch = {
        forming: newestPerSeries(state.forming),
        closed: oldestFirst(state.closed),
        announced: oldestFirst(state.announced),
        trusted: state.trusted
      }
      return {
        state: {
          ...state,
          forming: List.empty(),
          formingLength: 0,
          formingSeries: 0,
          closed: List.empty(),
          announced: List.empty(),
          trusted: new Set()
        },
        outputs: [{ _tag: "Batch", batch }]
      }
    }
    case "Published": {
      const latest = new Map(state.latest)
      for (const { state: series, bar } of event.written)
        latest.set(series.id, Math.max(latest.get(series.id) ?? 0, bar.ts))
      const nowTrusted = new Set(state.nowTrusted)
      for (const id of event.trusted) nowTrusted.add(id)
      return { state: { ...state, latest, nowTrusted }, outputs: NOTHING }
    }
    case "Record":
      return {
        state: { ...state, latest: new Map(), nowTrusted: new Set() },
        outputs: [{ _tag: "RecordProgress", latest: state.latest, trusted: state.nowTrusted }]
      }
  }
}
