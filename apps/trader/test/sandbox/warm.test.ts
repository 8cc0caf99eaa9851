/**
 * A child started ahead of its run (`warm`): the run of that code takes it, with the same result
 * and progress as a child started by the run; one that no run takes is stopped after its wait;
 * and no more than two wait at a time.
 */
import { readFileSync } from "node:fs"
import { expect, layer } from "@effect/vitest"
import { FillSettings } from "@quasar/domain"
import { Duration, Effect, Layer, Logger, LogLevel } from "effect"
import { BacktestExecutor } from "../../src/backtest/BacktestExecutor"
import type { Progress } from "../../src/engine/runBacktest"
import { runBacktest } from "../../src/engine/runBacktest"
import { SandboxedBacktestExecutor } from "../../src/sandbox/SandboxedBacktestExecutor"
import { input, walk } from "../engine/fixtures"
import { smaCross } from "../engine/smaCross"
import { job, runningStrategies, sha256, strategySource } from "./support"

const MINUTE = 60_000
const smaCrossSource = `${readFileSync(new URL("../engine/smaCross.ts", import.meta.url), "utf8")}\nexport default smaCross\n`

const WARM_FOR_SECONDS = 3

const executor = SandboxedBacktestExecutor.layer({
  timeLimit: Duration.seconds(20),
  progressEvery: 500,
  warmFor: Duration.seconds(WARM_FOR_SECONDS),
  limits: { heapMb: 64, rssMb: 256, loadTimeout: Duration.seconds(20) }
}).pipe(Layer.provide(Logger.minimumLogLevel(LogLevel.Error)))

/** The running strategy children, counted every 100 ms until `holds` or `seconds` are over. */
const until = (holds: (running: number) => boolean, seconds: number) =>
  Effect.gen(function* () {
    const deadline = Date.now() + seconds * 1_000
    for (;;) {
      const running = runningStrategies().length
      if (holds(running) || Date.now() > deadline) return running
      yield* Effect.sleep("100 millis")
    }
  })

layer(executor, { timeout: 90_000, excludeTestServices: true })(
  "children started ahead of their runs",
  (it) => {
    it.effect("the run of the warmed code takes its child and gives the in-process engine's result", () =>
      Effect.gen(function* () {
        const executor = yield* BacktestExecutor
        const btc = walk(3_000, 7)
        const params = { fast: 5, slow: 20 }
        const fill = FillSettings.make({})
        const run = job(
          smaCrossSource,
          { "BTC/USD": btc },
          { language: "typescript", params, from: 30 * MINUTE, to: 2_999 * MINUTE + 1, fill }
        )
        yield* executor.warm(run)
        // Node, and `unshare` above it where namespaces are available.
        expect(yield* until((n) => n > 0, 10)).toBeGreaterThan(0)
        const reports: Array<Progress> = []
        const sandboxed = yield* executor.run(run, (p) => Effect.sync(() => void reports.push(p)))
        const inProcess = runBacktest(
          input(
            smaCross,
            { "BTC/USD": btc },
            { params, from: 30 * MINUTE, fill, codeSha256: sha256(smaCrossSource) }
          )
        )
        if (!inProcess.ok) throw new Error(inProcess.problems.join("; "))
        expect(sandboxed).toStrictEqual(inProcess.result)
        expect(reports.at(-1)).toEqual({ done: 3_000, total: 3_000 })
        expect(reports.length).toBeGreaterThan(1)
        // The run used the warmed child and started none of its own: none is left.
        expect(runningStrategies()).toEqual([])
      })
    )

    it.effect("a warmed child no run takes is stopped after its wait, and at most two wait", () =>
      Effect.gen(function* () {
        const executor = yield* BacktestExecutor
        yield* executor.warm(job(strategySource("", "// one"), {}))
        const perChild = yield* until((n) => n > 0, 10)
        expect(perChild).toBeGreaterThan(0)
        expect(yield* until((n) => n === 0, WARM_FOR_SECONDS + 10)).toBe(0)
        for (const n of ["// two", "// three", "// four"])
          yield* executor.warm(job(strategySource("", n), {}))
        expect(yield* until((n) => n >= 2 * perChild, 10)).toBe(2 * perChild)
        // The third request started nothing: two children, until their wait is over.
        expect(yield* until((n) => n !== 2 * perChild, 1)).toBe(2 * perChild)
        expect(yield* until((n) => n === 0, WARM_FOR_SECONDS + 10)).toBe(0)
      })
    )
  }
)
