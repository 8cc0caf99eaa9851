/**
 * Bars go to the child in chunks: a run whose bars span several chunks, the last one short, gives
 * the result the in-process engine gives for the same inputs.
 */
import { readFileSync } from "node:fs"
import { expect, layer } from "@effect/vitest"
import { FillSettings } from "@quasar/domain"
import { Duration, Effect, Layer, Logger, LogLevel } from "effect"
import { BacktestExecutor } from "../../src/backtest/BacktestExecutor"
import { runBacktest } from "../../src/engine/runBacktest"
import { SandboxedBacktestExecutor } from "../../src/sandbox/SandboxedBacktestExecutor"
import { input, walk } from "../engine/fixtures"
import { smaCross } from "../engine/smaCross"
import { job, sha256 } from "./support"

const MINUTE = 60_000
const BARS = 3_001
const PER_MESSAGE = 256
const smaCrossSource = `${readFileSync(new URL("../engine/smaCross.ts", import.meta.url), "utf8")}\nexport default smaCross\n`

const chunked = SandboxedBacktestExecutor.layer({
  timeLimit: Duration.seconds(20),
  progressEvery: 500,
  barsPerMessage: PER_MESSAGE,
  limits: { heapMb: 64, rssMb: 256, loadTimeout: Duration.seconds(20) }
}).pipe(Layer.provide(Logger.minimumLogLevel(LogLevel.Error)))

layer(chunked, { timeout: 90_000, excludeTestServices: true })(
  "the sandboxed executor's bar chunks",
  (it) => {
    it.effect("a run whose bars span several chunks gives the in-process engine's result", () =>
      Effect.gen(function* () {
        const btc = walk(BARS, 11)
        expect(Math.ceil(btc.ts.length / PER_MESSAGE)).toBeGreaterThan(10)
        expect(btc.ts.length % PER_MESSAGE).not.toBe(0)
        const params = { fast: 5, slow: 20 }
        const fill = FillSettings.make({ feeBps: 10, slippageBps: 5 })
        const from = 30 * MINUTE
        const to = (BARS - 1) * MINUTE + 1
        const sandboxed = yield* Effect.flatMap(BacktestExecutor, (e) =>
          e.run(
            job(smaCrossSource, { "BTC/USD": btc }, { language: "typescript", params, from, to, fill }),
            () => Effect.void
          )
        )
        const inProcess = runBacktest(
          input(smaCross, { "BTC/USD": btc }, { params, from, to, fill, codeSha256: sha256(smaCrossSource) })
        )
        if (!inProcess.ok) throw new Error(inProcess.problems.join("; "))
        expect(sandboxed).toStrictEqual(inProcess.result)
        expect(sandboxed.statistics.trades).toBeGreaterThan(5)
        expect(sandboxed.progress).toEqual({ done: BARS, total: BARS })
      })
    )
  }
)
