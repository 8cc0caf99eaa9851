/**
 * Where collected bars go. The store's BarWriter (apps/datahub/src/store/BarWriter.ts) provides
 * it: `write` completes only once the rows are committed and pushes back while its queue is full,
 * which is what lets the scheduler record progress only after a commit.
 */
import { Context, Effect } from "effect"
import type { BarRow, BarTarget } from "../store/barBatch"

export type { BarRow, BarTarget } from "../store/barBatch"

export interface BarSinkService {
  readonly write: (target: BarTarget, rows: ReadonlyArray<BarRow>) => Effect.Effect<void, unknown>
}

/** Until the app wires the store's writer, a write is a defect that says so (the loop logs it). */
const unwired: BarSinkService = {
  write: () => Effect.dieMessage("no BarWriter is wired into this DataHub: provide BarSink from the store's BarWriter")
}

export class BarSink extends Context.Reference<BarSink>()("@quasar/datahub/collect/BarSink", {
  defaultValue: () => unwired
}) {}
