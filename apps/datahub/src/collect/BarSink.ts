/**
 * Where collected bars go: the collector's view of the store's BarWriter (App.ts adapts it).
 * `write` completes only once the rows are committed and suspends while the writer's queue is
 * full, which is what lets a run record progress right after it. While the database is down the
 * writer keeps retrying, so a write simply takes longer; `BarsRejected` means the database refused
 * these rows for good (bad data), which no retry fixes.
 */
import { Context, type Effect } from "effect"
import type { BarRow, BarsRejected, BarTarget } from "../store/BarWriter"

export type { BarRow, BarTarget } from "../store/BarWriter"

export class BarSink extends Context.Tag("@quasar/datahub/collect/BarSink")<
  BarSink,
  {
    readonly write: (target: BarTarget, rows: ReadonlyArray<BarRow>) => Effect.Effect<void, BarsRejected>
    /**
     * Completes once every row written before it is committed, including rows whose writer was
     * interrupted while it waited: they are queued, and commit all the same.
     */
    readonly flush: Effect.Effect<void>
  }
>() {}
