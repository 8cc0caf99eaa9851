/**
 * Where a backtest's strategy code runs. Trader's run manager hands over the code, the inputs and
 * the bars as columns, and gets progress and the result back; the production layer runs the code
 * in the sandbox (no network at all), the in-process one runs trusted code in tests.
 */
import { type BacktestResult, type BarColumnBlocks, barCount } from "@quasar/domain"
import { Context, type Effect, Schema } from "effect"
import type { Progress } from "../engine/runBacktest"
import type { BacktestInput } from "../engine/types"

/**
 * A run's bars, per universe key, in the blocks DataHub sent them in. The executor takes them
 * once: from then on the job no longer holds them, so the run's copy (in its sandbox) is the
 * only one left and a million bars' 48 MB are freed while the run goes on.
 */
export class BarsHandoff {
  #bars: ReadonlyMap<string, BarColumnBlocks> | undefined
  /** Bars per key, known after the handoff too (for logs and progress). */
  readonly lengths: ReadonlyArray<readonly [string, number]>

  constructor(bars: ReadonlyMap<string, BarColumnBlocks>) {
    this.#bars = bars
    this.lengths = Array.from(bars, ([key, blocks]) => [key, barCount(blocks)] as const)
  }

  /** The bars; a second take is a defect (a job runs once). */
  take(): ReadonlyMap<string, BarColumnBlocks> {
    const bars = this.#bars
    if (bars === undefined) throw new Error("a backtest's bars were taken twice: a job runs once")
    this.#bars = undefined
    return bars
  }
}

/** A strategy module as uploaded (TypeScript or JavaScript), its language and its sha256. */
export interface StrategyCode {
  readonly source: string
  readonly language: "typescript" | "javascript"
  readonly codeSha256: string
}

/** A run's inputs with the strategy as code to load (the engine's input has it loaded). */
export interface BacktestJob extends Omit<BacktestInput, "strategy" | "bars">, StrategyCode {
  readonly bars: BarsHandoff
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
    /**
     * Gets ready to run `code` (its sandbox child starts) while the caller still loads the run's
     * bars, without waiting; a run of the same code soon after starts sooner. Never fails: a
     * start that fails shows in the run.
     */
    readonly warm: (code: StrategyCode) => Effect.Effect<void>
    /** Interrupting the returned effect cancels the run (and stops its sandbox). */
    readonly run: (
      job: BacktestJob,
      onProgress: (progress: Progress) => Effect.Effect<void>
    ) => Effect.Effect<BacktestResult, BacktestAborted>
  }
>() {}
