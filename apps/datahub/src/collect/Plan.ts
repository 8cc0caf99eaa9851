/**
 * The arithmetic of collection, as plain functions: which range is due, when the next bar can be
 * asked for, how far a backfill got, and which ranges a provider answered with nothing. All times
 * are UTC epoch milliseconds; bars are keyed by their open time.
 */
import { Timeframe } from "@quasar/domain"

const DAY = 86_400_000

/**
 * How far back a subscription without `backfillFrom` starts: 30 days of intraday bars (43,200
 * 1m bars — more than Kraken keeps, a few EODHD windows), 2 years of daily and 5 years of weekly
 * bars. Deep enough to chart, shallow enough that a new subscription is current in minutes.
 */
export const defaultBackfillMs = (tf: Timeframe.Timeframe): number =>
  tf === "1w" ? 5 * 365 * DAY : tf === "1d" ? 2 * 365 * DAY : 30 * DAY

export const defaultBackfillFrom = (tf: Timeframe.Timeframe, nowMs: number): number =>
  Timeframe.barOpen(tf, nowMs - defaultBackfillMs(tf))

/** The first bar open at or after `t`. */
export const alignUp = (tf: Timeframe.Timeframe, t: number): number =>
  Timeframe.isAligned(tf, t) ? t : Timeframe.barClose(tf, t)

/** The first bar a history subscription should hold: its `backfillFrom`, or the default depth. */
export const expectedFrom = (sub: {
  readonly timeframe: Timeframe.Timeframe
  readonly backfillFrom: number | null
  readonly createdAt: number
}): number => alignUp(sub.timeframe, sub.backfillFrom ?? defaultBackfillFrom(sub.timeframe, sub.createdAt))

/**
 * Backfill progress once collection caught up: the share of [from, to) stored or confirmed empty
 * by the provider. Only a range without unconfirmed holes is 100 %.
 */
export const coveragePercent = (from: number, to: number, unconfirmedMs: number): number => {
  if (unconfirmedMs <= 0 || to <= from) return 100
  return Math.min(99.99, Math.floor((1 - unconfirmedMs / (to - from)) * 10_000) / 100)
}

/**
 * The exclusive end of what can be asked for at `nowMs`: every bar opening before it has closed
 * and been published (its close + the provider's delay + a margin for clock skew is past).
 */
export const availableUntil = (
  tf: Timeframe.Timeframe,
  nowMs: number,
  publishDelayMs: number,
  marginMs: number
): number => Timeframe.barOpen(tf, nowMs - publishDelayMs - marginMs)

/** When the bar opening at `until` becomes available: the next bar-aligned run. */
export const nextRunAt = (
  tf: Timeframe.Timeframe,
  until: number,
  publishDelayMs: number,
  marginMs: number
): number => until + Timeframe.durationMs(tf) + publishDelayMs + marginMs

/** [from, to) of the next run: at most `maxBars` bars, so one run stays bounded in time. */
export const runRange = (
  tf: Timeframe.Timeframe,
  cursor: number,
  until: number,
  maxBars: number
): { readonly from: number; readonly to: number } => ({
  from: cursor,
  to: Math.min(until, cursor + Math.max(1, maxBars) * Timeframe.durationMs(tf))
})

/** Backfill progress in percent: how much of [backfillFrom, until) is collected. */
export const progressPercent = (backfillFrom: number, collectedUntil: number, until: number): number => {
  if (until <= backfillFrom) return 100
  const p = ((collectedUntil - backfillFrom) / (until - backfillFrom)) * 100
  return Math.round(Math.min(100, Math.max(0, p)) * 100) / 100
}

export interface Range {
  readonly from: number
  readonly to: number
}

/**
 * The holes in one page of a request's answer: between `after` (the open of the last bar
 * already seen in this request, or one bar before its start) and each bar. Each hole was asked
 * for and came back empty although the provider answered a later bar, so it is known-empty.
 */
export const holesBefore = (
  tf: Timeframe.Timeframe,
  after: number,
  opens: ReadonlyArray<number>
): Array<Range> => {
  const d = Timeframe.durationMs(tf)
  const holes: Array<Range> = []
  let previous = after
  for (const ts of opens) {
    if (ts > previous + d) holes.push({ from: previous + d, to: ts })
    previous = ts
  }
  return holes
}

/**
 * How long to wait after a run failed with every retry spent: doubling per consecutive failure,
 * capped. This is the cadence *between* runs (persisted as `next_run_at`); retries inside a run
 * use the host's provider retry policy.
 */
export const failureDelayMs = (baseMs: number, failures: number, maxMs: number): number =>
  Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(failures - 1, 20)))
