/**
 * Bars reach the child as files of bar columns: a run over one block, and over the same bars in
 * uneven blocks as DataHub's answer brings them, gives the result the in-process engine gives for
 * the same inputs.
 */
import { readdirSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { expect, layer } from "@effect/vitest"
import { FillSettings } from "@quasar/domain"
import { Duration, Effect, Layer, Logger, LogLevel } from "effect"
import { BacktestExecutor, BarsHandoff } from "../../src/backtest/BacktestExecutor"
import { runBacktest } from "../../src/engine/runBacktest"
import type { BarColumns } from "../../src/engine/types"
import { SandboxedBacktestExecutor } from "../../src/sandbox/SandboxedBacktestExecutor"
import { input, walk } from "../engine/fixtures"
import { smaCross } from "../engine/smaCross"
import { job, sha256 } from "./support"

const MINUTE = 60_000
const BARS = 3_001
const smaCrossSource = `${readFileSync(new URL("../engine/smaCross.ts", import.meta.url), "utf8")}\nexport default smaCross\n`

const chunkOf = (c: BarColumns, from: number, to: number): BarColumns => ({
  ts: c.ts.subarray(from, to),
  open: c.open.subarray(from, to),
  high: c.high.subarray(from, to),
  low: c.low.subarray(from, to),
  close: c.close.subarray(from, to),
  volume: c.volume.subarray(from, to)
})

/** Bar files left in the sandbox directories of this process (its workspace root names its pid). */
const barFilesLeft = () =>
  readdirSync(tmpdir())
    .filter((name) => name.startsWith("quasar-sandbox-"))
    .flatMap((name) => {
      const root = join(tmpdir(), name)
      try {
        if (readFileSync(join(root, "owner.pid"), "utf8").trim() !== String(process.pid)) return []
        return readdirSync(root, { recursive: true })
          .map(String)
          .filter((file) => file.endsWith(".qbcs"))
      } catch {
        return []
      }
    })

const executor = SandboxedBacktestExecutor.layer({
  timeLimit: Duration.seconds(20),
  progressEvery: 500,
  limits: { heapMb: 64, rssMb: 256, loadTimeout: Duration.seconds(20) }
}).pipe(Layer.provide(Logger.minimumLogLevel(LogLevel.Error)))

layer(executor, { timeout: 90_000, excludeTestServices: true })(
  "the sandboxed executor's bar files",
  (it) => {
    it.effect("a run over bars in one block or in uneven ones gives the in-process engine's result", () =>
      Effect.gen(function* () {
        const btc = walk(BARS, 11)
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

        // The same bars in uneven blocks, as DataHub's answer brings them: one bar, long blocks
        // and short ones. The run is the same; the job no longer holds the bars.
        const cuts = [0, 1, 701, 751, 1_751, BARS]
        const blocks = cuts.slice(1).map((end, i) => chunkOf(btc, cuts[i]!, end))
        const bars = new BarsHandoff(new Map([["BTC/USD", blocks]]))
        const fromBlocks = yield* Effect.flatMap(BacktestExecutor, (e) =>
          e.run(
            job(smaCrossSource, {}, { language: "typescript", params, from, to, fill, bars }),
            () => Effect.void
          )
        )
        expect(fromBlocks).toStrictEqual(inProcess.result)
        expect(() => bars.take()).toThrow(/taken twice/)
        // Each run's directory, its bar files with it, is removed when the run ends.
        expect(barFilesLeft()).toEqual([])
      })
    )
  }
)
