/**
 * A `BacktestExecutor` that runs trusted strategies in this process, for tests: the job's code is
 * looked up by its sha256 among the given modules (nothing is evaluated), and the engine runs as
 * an Effect that yields every `every` bar times, where it reports progress and can be
 * interrupted. `pause` runs after each progress report, so a test can hold a run mid-way.
 */
import { type BarColumns, concatBarColumns } from "@quasar/domain"
import { Effect, Either, Layer } from "effect"
import { BacktestAborted, BacktestExecutor } from "../backtest/BacktestExecutor"
import { readBlocks } from "../bars/BarsFeed"
import { type Progress, runBacktestEffect } from "../engine/runBacktest"
import type { StrategyModule } from "./StrategyModules"

export interface InProcessOptions {
  readonly every?: number
  readonly pause?: (progress: Progress) => Effect.Effect<void>
}

export const layer = (modules: ReadonlyArray<StrategyModule>, options: InProcessOptions = {}) =>
  Layer.succeed(BacktestExecutor, {
    warm: () => Effect.void,
    run: (job, onProgress) =>
      Effect.gen(function* () {
        const module = modules.find((m) => m.sha256 === job.codeSha256)
        if (module === undefined)
          return yield* new BacktestAborted({
            reason: "inputs",
            message: `no in-process strategy has code sha256 ${job.codeSha256}`
          })
        const pause = options.pause ?? (() => Effect.void)
        // The bars are read whole before the run: this executor is for tests, where they are few.
        const bars = new Map<string, BarColumns>()
        for (const series of job.series) {
          const blocks = yield* readBlocks(series.bars).pipe(
            Effect.mapError(
              (e) =>
                new BacktestAborted({ reason: "bars", message: `the bars of ${series.key}: ${e.message}` })
            )
          )
          if (Either.isLeft(blocks))
            return yield* new BacktestAborted({
              reason: "bars",
              message: `the bars of ${series.key}: ${blocks.left}`
            })
          bars.set(series.key, concatBarColumns(blocks.right))
        }
        return yield* runBacktestEffect(
          {
            strategy: module.strategy,
            codeSha256: job.codeSha256,
            params: job.params,
            provider: job.provider,
            from: job.from,
            to: job.to,
            initialCash: job.initialCash,
            fill: job.fill,
            bars
          },
          {
            ...(options.every === undefined ? {} : { every: options.every }),
            onProgress: (progress) => Effect.zipRight(onProgress(progress), pause(progress))
          }
        ).pipe(
          Effect.catchTag("InvalidRequest", (e) =>
            Effect.fail(new BacktestAborted({ reason: "inputs", message: e.message }))
          )
        )
      })
  })
