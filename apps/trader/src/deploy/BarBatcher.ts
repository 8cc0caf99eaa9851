/**
 * Live bars grouped by open time, so that `onBar` gets the closed bars of one open time together,
 * one per symbol that has a bar then (as in a backtest). Bars of different symbols close at about
 * the same time but arrive one by one: a time is complete when every universe symbol has its bar,
 * or when a bar of a later time arrives (a symbol without a bar then is simply absent). A bar of a
 * time already given out, or a second bar of a symbol, is dropped.
 */
import type { Bar } from "@quasar/providers/sdk"

export interface BarBatcher {
  readonly universe: ReadonlySet<string>
  /** The open time being collected, and its bars so far. */
  readonly pending: ReadonlyArray<Bar>
  /** The last open time given out. */
  readonly flushed: number
}

export const emptyBatcher = (
  universe: ReadonlyArray<string>,
  flushed = Number.NEGATIVE_INFINITY
): BarBatcher => ({
  universe: new Set(universe),
  pending: [],
  flushed
})

/** The next state and the batches now complete, oldest first. */
export const addBar = (
  state: BarBatcher,
  bar: Bar
): { readonly state: BarBatcher; readonly batches: ReadonlyArray<ReadonlyArray<Bar>> } => {
  if (!state.universe.has(bar.symbol) || bar.ts <= state.flushed) return { state, batches: [] }
  const batches: Array<ReadonlyArray<Bar>> = []
  let pending = state.pending
  let flushed = state.flushed
  const at = pending[0]?.ts
  if (at !== undefined && bar.ts < at) return { state, batches: [] }
  if (at !== undefined && bar.ts > at) {
    batches.push(pending)
    flushed = at
    pending = []
  }
  if (pending.some((b) => b.symbol === bar.symbol)) return { state: { ...state, pending, flushed }, batches }
  pending = [...pending, bar]
  if (pending.length === state.universe.size) {
    batches.push(pending)
    flushed = bar.ts
    pending = []
  }
  return { state: { ...state, pending, flushed }, batches }
}
