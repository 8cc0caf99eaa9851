/**
 * The bookkeeping of one collection run as a pure reducer: where the next provider request
 * starts, which bars of a page still need writing, how far the run may record progress once the
 * database confirmed what it holds, and when a commit lost bars (`BarsNotStored`). The driver
 * (CollectionRun) performs the outputs and feeds back what they returned; nothing here runs an
 * Effect or reads a clock.
 */
import { Timeframe } from "@quasar/domain"
import { holesBefore, progressPercent, type Range } from "./Plan"
import type { Progress, SubscriptionRecord } from "./SubscriptionRepo"

/** What the run's bookkeeping needs of a bar: its open. */
export interface TimedBar {
  readonly ts: number
}

export interface RunSetup {
  readonly timeframe: Timeframe.Timeframe
  /** Backfills and updates record progress; a gap run only the newest bar it filled. */
  readonly forward: boolean
  readonly from: number
  readonly to: number
  /** Forward runs: the end of what is available now, for progress and the `current` status. */
  readonly until: number
  readonly backfillFrom: number
  readonly subscriptionStatus: SubscriptionRecord["status"]
}

/** Confirmed bars whose known-empty holes are being recorded; progress follows once they are. */
export interface PendingConfirm {
  readonly count: number
  readonly lastTs: number
  readonly sent: number
  readonly firstMissing: number | undefined
  readonly missing: number
}

export interface RunState {
  readonly setup: RunSetup
  /** The first bar not yet confirmed in the database: where a (re)started request begins. */
  readonly cursor: number
  /**
   * The last bar known to be stored before `cursor`: a hole after it that the provider skips
   * while answering a later bar is known-empty (see Plan.holesBefore).
   */
  readonly lastSeen: number
  /** The first bar not yet handed to the writer in the current attempt. */
  readonly queuedFrom: number
  readonly rows: number
  readonly pages: number
  readonly attempts: number
  readonly pending: PendingConfirm | null
}

export type RunEvent<B extends TimedBar> =
  /** The provider stream (re)starts. */
  | { readonly _tag: "AttemptStarted" }
  /** A group of provider pages arrived, in order. */
  | { readonly _tag: "PageQueued"; readonly bars: ReadonlyArray<B> }
  /** The writer committed these bars (in order of the pages). */
  | { readonly _tag: "Written"; readonly bars: ReadonlyArray<B> }
  /** The database was asked which of `sent` it lacks; `missing` is ascending. */
  | { readonly _tag: "Checked"; readonly sent: ReadonlyArray<B>; readonly missing: ReadonlyArray<number> }
  /** The holes of the pending confirmation are recorded. */
  | { readonly _tag: "HolesRecorded" }

export type RunOutput<B extends TimedBar> =
  | { readonly _tag: "Request"; readonly from: number; readonly to: number }
  | { readonly _tag: "Write"; readonly bars: ReadonlyArray<B> }
  | { readonly _tag: "CheckStored"; readonly bars: ReadonlyArray<B> }
  | { readonly _tag: "RecordEmpty"; readonly ranges: ReadonlyArray<Range> }
  | { readonly _tag: "RecordProgress"; readonly progress: Progress }
  | { readonly _tag: "RecordLastBar"; readonly lastBarAt: number }
  | { readonly _tag: "NotStored"; readonly missing: number; readonly message: string }

export interface Step<B extends TimedBar> {
  readonly state: RunState
  readonly outputs: ReadonlyArray<RunOutput<B>>
}

const iso = (ms: number) => new Date(ms).toISOString()

export const initialState = (setup: RunSetup, lastBarAt: number | null): RunState => {
  const d = Timeframe.durationMs(setup.timeframe)
  return {
    setup,
    cursor: setup.from,
    // A forward run continues after the newest stored bar, so a hole right after it counts too.
    lastSeen: lastBarAt !== null && lastBarAt < setup.from && setup.forward ? lastBarAt : setup.from - d,
    queuedFrom: setup.from,
    rows: 0,
    pages: 0,
    attempts: 0,
    pending: null
  }
}

/** Provider restarts of the run so far. */
export const retries = (state: RunState): number => Math.max(0, state.attempts - 1)

export const step = <B extends TimedBar>(state: RunState, event: RunEvent<B>): Step<B> => {
  const d = Timeframe.durationMs(state.setup.timeframe)
  switch (event._tag) {
    case "AttemptStarted":
      // Each (re)start asks only for what is not committed yet.
      return {
        state: { ...state, attempts: state.attempts + 1, queuedFrom: state.cursor },
        outputs: [{ _tag: "Request", from: state.cursor, to: state.setup.to }]
      }
    case "PageQueued": {
      // Bars before `queuedFrom` are already on their way to the writer (a repeated boundary bar).
      const bars = event.bars.filter((b) => b.ts >= state.queuedFrom)
      const last = bars.at(-1)
      return {
        state: {
          ...state,
          pages: state.pages + 1,
          queuedFrom: last === undefined ? state.queuedFrom : last.ts + d
        },
        outputs: [{ _tag: "Write", bars }]
      }
    }
    case "Written": {
      // After a provider retry, pages already recorded may be written again: never step back.
      const first = event.bars[0]
      const sent =
        first !== undefined && first.ts < state.cursor
          ? event.bars.filter((b) => b.ts >= state.cursor)
          : event.bars
      return { state, outputs: sent.length === 0 ? [] : [{ _tag: "CheckStored", bars: sent }] }
    }
    case "Checked": {
      // Progress counts what the database holds, never what was sent: only the bars before the
      // first missing one are confirmed, and the run fails after recording them.
      const firstMissing = event.missing[0]
      const bars = firstMissing === undefined ? event.sent : event.sent.filter((b) => b.ts < firstMissing)
      const last = bars.at(-1)
      if (last === undefined)
        return {
          state,
          outputs:
            firstMissing === undefined
              ? []
              : [notStored(state.rows, event.sent.length, firstMissing, event.missing.length)]
        }
      return {
        state: {
          ...state,
          pending: {
            count: bars.length,
            lastTs: last.ts,
            sent: event.sent.length,
            firstMissing,
            missing: event.missing.length
          }
        },
        outputs: [
          {
            _tag: "RecordEmpty",
            ranges: holesBefore(
              state.setup.timeframe,
              state.lastSeen,
              bars.map((b) => b.ts)
            )
          }
        ]
      }
    }
    case "HolesRecorded": {
      const pending = state.pending
      if (pending === null) return { state, outputs: [] }
      const { setup } = state
      const cursor = pending.lastTs + d
      const rows = state.rows + pending.count
      const current = setup.subscriptionStatus === "current"
      const record: RunOutput<B> = setup.forward
        ? {
            _tag: "RecordProgress",
            progress: {
              collectedUntil: cursor,
              lastBarAt: pending.lastTs,
              progress: current ? 100 : progressPercent(setup.backfillFrom, cursor, setup.until),
              status: current ? "current" : "backfilling"
            }
          }
        : { _tag: "RecordLastBar", lastBarAt: pending.lastTs }
      return {
        state: { ...state, cursor, lastSeen: pending.lastTs, rows, pending: null },
        outputs:
          pending.firstMissing === undefined
            ? [record]
            : [record, notStored(rows, pending.sent, pending.firstMissing, pending.missing)]
      }
    }
  }
}

const notStored = <B extends TimedBar>(
  rows: number,
  sent: number,
  firstMissing: number,
  missing: number
): RunOutput<B> => ({
  _tag: "NotStored",
  missing,
  message: `${missing} of ${sent} bars written were not in the database after their commit (the first at ${iso(firstMissing)}); the run counts only the ${rows} confirmed bars and the next run writes again from ${iso(firstMissing)}`
})

/**
 * What a run that reached `to` records: a forward run its progress up to `to`; a gap run (which
 * lies between stored bars) whatever of [cursor, to) the provider did not fill as empty.
 */
export const completion = <B extends TimedBar>(state: RunState): RunOutput<B> => {
  const { setup } = state
  if (!setup.forward)
    return {
      _tag: "RecordEmpty",
      ranges: state.cursor < setup.to ? [{ from: state.cursor, to: setup.to }] : []
    }
  const reached = setup.to >= setup.until
  return {
    _tag: "RecordProgress",
    progress: {
      collectedUntil: setup.to,
      lastBarAt: null,
      progress: reached ? 100 : progressPercent(setup.backfillFrom, setup.to, setup.until),
      status: reached || setup.subscriptionStatus === "current" ? "current" : "backfilling"
    }
  }
}
