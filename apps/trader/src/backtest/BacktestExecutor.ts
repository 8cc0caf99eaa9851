/**
 * Where a backtest's strategy code runs. Trader's run manager hands over the code, the inputs and
 * where the bars come from, and gets progress and the result back; the production layer runs the code
 * in the sandbox (no network at all), the in-process one runs trusted code in tests.
 */
import type { BacktestResult, InvalidRequest, ServiceUnavailable } from "@quasar/domain"
import { Context, type Effect, Schema, type Stream } from "effect"
import type { Progress } from "../engine/runBacktest"
import type { BacktestInput } from "../engine/types"

/**
 * One universe member of a run and where its bars come from: DataHub's answer in the
 * `GET /bars/columns` format, read when the run starts and handed on as it arrives, so the run
 * goes on while its bars load and Trader never holds them whole.
 */
export interface RunSeries {
  readonly key: string
  /** Bars the member is expected to bring: progress counts on them until the answer is whole. */
  readonly expected: number
  readonly bars: Stream.Stream<Uint8Array, InvalidRequest | ServiceUnavailable>
}

/** A strategy module as uploaded (TypeScript or JavaScript), its language and its sha256. */
export interface StrategyCode {
  readonly source: string
  readonly language: "typescript" | "javascript"
  readonly codeSha256: string
}

/** A run's inputs with the strategy as code to load (the engine's input has it loaded). */
export interface BacktestJob extends Omit<BacktestInput, "strategy" | "bars">, StrategyCode {
  readonly series: ReadonlyArray<RunSeries>
}

/**
 * Why a run could not produce a result at all. A strategy that throws mid-run is not this: its
 * result has status `failed` and says where. `inputs`: the job cannot start (the caller's fault);
 * `sandbox`: the code was stopped (time, memory, crash) and the message says which limit; `bars`:
 * DataHub stopped serving the run's bars (retrying later may succeed).
 */
export class BacktestAborted extends Schema.TaggedError<BacktestAborted>()("BacktestAborted", {
  reason: Schema.Literal("inputs", "sandbox", "bars"),
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
