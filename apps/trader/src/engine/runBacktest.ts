import { type BacktestResult, InvalidRequest } from "@quasar/domain"
import { Effect } from "effect"
import type { BacktestRun } from "./BacktestRun"
import { prepareBacktest } from "./prepareBacktest"
import type { BacktestInput } from "./types"

export interface Progress {
  readonly done: number
  readonly total: number
}

/** Bar times between progress reports and cancellation checks. */
const DEFAULT_EVERY = 10_000

export interface RunOptions {
  /** Checked every `every` bar times; once aborted the run stops with status `cancelled`. */
  readonly signal?: AbortSignal
  readonly onProgress?: (progress: Progress) => void
  readonly every?: number
}

const drive = (run: BacktestRun, options: RunOptions): BacktestResult => {
  const every = options.every ?? DEFAULT_EVERY
  for (;;) {
    if (options.signal?.aborted) {
      run.cancel()
      break
    }
    const over = run.advance(every)
    options.onProgress?.(run.progress)
    if (over) break
  }
  return run.result()
}

/** Runs a backtest to its end (or its cancellation) in one synchronous call. */
export const runBacktest = (
  input: BacktestInput,
  options: RunOptions = {}
):
  | { readonly ok: true; readonly result: BacktestResult }
  | { readonly ok: false; readonly problems: ReadonlyArray<string> } => {
  const prepared = prepareBacktest(input)
  return prepared.ok ? { ok: true, result: drive(prepared.run, options) } : prepared
}

/**
 * Runs a backtest as an Effect that yields to the scheduler every `every` bar times: it can be
 * interrupted there, and reports progress there. Inputs that cannot run fail with InvalidRequest.
 */
export const runBacktestEffect = (
  input: BacktestInput,
  options: { readonly every?: number; readonly onProgress?: (progress: Progress) => Effect.Effect<void> } = {}
): Effect.Effect<BacktestResult, InvalidRequest> =>
  Effect.gen(function* () {
    const prepared = prepareBacktest(input)
    if (!prepared.ok)
      return yield* new InvalidRequest({
        message: `The backtest cannot start: ${prepared.problems.join("; ")}. Fix these inputs and submit it again.`
      })
    const { run } = prepared
    const every = options.every ?? DEFAULT_EVERY
    while (!run.advance(every)) {
      if (options.onProgress !== undefined) yield* options.onProgress(run.progress)
      yield* Effect.yieldNow()
    }
    if (options.onProgress !== undefined) yield* options.onProgress(run.progress)
    const result = run.result()
    if (result.failure !== undefined)
      yield* Effect.logWarning("the strategy failed").pipe(
        Effect.annotateLogs({
          barIndex: result.failure.barIndex,
          ts: result.failure.ts,
          error: result.failure.message
        })
      )
    else yield* Effect.logInfo("backtest done").pipe(Effect.annotateLogs({ bars: result.progress.total }))
    return result
  }).pipe(
    Effect.annotateLogs({ strategy: input.strategy.name, provider: input.provider }),
    Effect.withSpan("Backtest.run", {
      attributes: { strategy: input.strategy.name, provider: input.provider }
    })
  )
