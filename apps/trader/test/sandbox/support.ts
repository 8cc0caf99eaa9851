/** What the sandboxed executor's tests share: the executor with short limits, and jobs from sources. */
import { createHash } from "node:crypto"
import { readFileSync } from "node:fs"
import { descendants } from "@quasar/sandbox/node"
import { Duration, Layer, Logger, LogLevel } from "effect"
import { type BacktestJob, BarsHandoff } from "../../src/backtest/BacktestExecutor"
import type { BarColumns } from "../../src/engine/types"
import { SandboxedBacktestExecutor } from "../../src/sandbox/SandboxedBacktestExecutor"
import { runInputs } from "../engine/fixtures"

/** A short wall-clock limit and a small heap, so hostile runs end quickly; loading may be slow under load. */
export const TIME_LIMIT_SECONDS = 4

export const executor = SandboxedBacktestExecutor.layer({
  timeLimit: Duration.seconds(TIME_LIMIT_SECONDS),
  progressEvery: 500,
  limits: { heapMb: 64, rssMb: 256, loadTimeout: Duration.seconds(20) }
}).pipe(Layer.provide(Logger.minimumLogLevel(LogLevel.Error)))

/** Each series as one block, handed over as the planner hands DataHub's. */
export const handoff = (bars: Readonly<Record<string, BarColumns>>) =>
  new BarsHandoff(new Map(Object.entries(bars).map(([key, columns]) => [key, [columns]])))

export const sha256 = (text: string) => createHash("sha256").update(text).digest("hex")

export const job = (
  source: string,
  bars: Readonly<Record<string, BarColumns>>,
  overrides: Partial<BacktestJob> = {}
): BacktestJob => ({
  ...runInputs(bars),
  bars: handoff(bars),
  source,
  language: "javascript",
  codeSha256: sha256(source),
  ...overrides
})

/** A JavaScript strategy over BTC/USD whose `onBar` body is `body`, after the module's `prelude`. */
export const strategySource = (
  body: string,
  prelude = ""
) => `import { defineStrategy } from "@quasar/providers/sdk"
${prelude}
export default defineStrategy({
  name: "hostile",
  version: "1.0.0",
  params: {},
  universe: { timeframe: "1d", symbols: ["BTC/USD"] },
  warmup: 0,
  onBar(ctx, bars) {
${body}
  }
})
`

/** The strategy runners this test process has running (children of any depth). */
export const runningStrategies = (): Array<number> =>
  descendants(process.pid).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("runner.mjs")
    } catch {
      return false
    }
  })
