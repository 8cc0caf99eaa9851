/**
 * Where a backtest's strategy code runs. Trader's run manager hands over the code, the inputs and
 * the bars as columns, and gets progress and the result back; the production layer runs the code
 * in the sandbox (no network at all), the in-process one runs trusted code in tests.
 */
import type { BacktestResult, FillSettings, ProviderName } from "@quasar/domain"
import { Context, Data, type Effect } from "effect"
import type { Progress } from "../engine/runBacktest"
import type { BarColumns } from "../engine/types"

export interface BacktestJob {
  /** The strategy module's source as uploaded (TypeScript or JavaScript), and its language. */
  readonly source: string
  readonly language: "typescript" | "javascript"
  /** sha256 of `source`, recorded in the result's inputs. */
  readonly codeSha256: string
  readonly params: Readonly<Record<string, unknown>>
  readonly provider: ProviderName
  readonly from: number
  readonly to: number
  readonly initialCash: number
  readonly fill: FillSettings
  /** Keyed by universe key (`universeKey` of the SDK); every member of the universe is present. */
  readonly bars: ReadonlyMap<string, BarColumns>
}

/**
 * Why a run could not produce a result at all. A strategy that throws mid-run is not this: its
 * result has status `failed` and says where. `inputs`: the job cannot start (the caller's fault);
 * `sandbox`: the code was stopped (time, memory, crash) and the message says which limit.
 */
export class BacktestAborted extends Data.TaggedError("BacktestAborted")<{
  readonly reason: "inputs" | "sandbox"
  readonly message: string
}> {}

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
