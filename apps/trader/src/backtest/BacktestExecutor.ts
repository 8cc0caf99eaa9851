/**
 * Where a backtest's strategy code runs. Trader's run manager hands over the code, the inputs and
 * the bars as columns, and gets progress and the result back; the production layer runs the code
 * in the sandbox (no network at all), the in-process one runs trusted code in tests.
 */
import type { BacktestResult } from "@quasar/domain"
import { Context, type Effect, Schema } from "effect"
import type { Progress } from "../engine/runBacktest"
import type { BacktestInput } from "../engine/types"

/** A run's inputs with the strategy as code to load (the engine's input has it loaded). */
export interface BacktestJob extends Omit<BacktestInput, "strategy"> {
  /** The strategy module's source as uploaded (TypeScript or JavaScript), and its language. */
  readonly source: string
  readonly language: "typescript" | "javascript"
}

/**
 * Why a run could not produce a result at all. A strategy that throws mid-run is not this: its
 * result has status `failed` and says where. `inputs`: the job cannot start (the caller's fault);
 * `sandbox`: the code was stopped (time, memory, crash) and the message says which limit.
 */
export class BacktestAborted extends Schema.TaggedError<BacktestAborted>()("BacktestAborted", {
  reason: Schema.Literal("inputs", "sandbox"),
  message: Schema.String
}) {}

export class BacktestExecutor extends Context.Tag("@quasar/trader/BacktestExecutor")<
  BacktestExecutor,
  {
    /** Interrupting the returned effect cancels the run (and stops its sandbox). */
    readonly run: (
      job: BacktestJob,
      onProgress: (progress: Progress) => Effect.Effect<void>
    ) => Effect.Effect<BacktestResult, BacktestAborted>
  }
>() {}
