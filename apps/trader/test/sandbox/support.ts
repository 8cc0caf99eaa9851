/** What the sandboxed executor's tests share: the executor with short limits, and jobs from sources. */
import { createHash } from "node:crypto"
import { readFileSync } from "node:fs"
import { encodeBarColumns } from "@quasar/domain"
import { descendants } from "@quasar/sandbox/node"
import { Duration, Layer, Logger, LogLevel, Stream } from "effect"
import type { BacktestJob, RunSeries } from "../../src/backtest/BacktestExecutor"
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

/** `bytes` in chunks of `size`, as a socket brings them. */
export const chunked = (bytes: Uint8Array, size: number): Array<Uint8Array> =>
  Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size))

/** Each series as DataHub's answer brings it (in chunks of `size` bytes), expected to bring what it has. */
export const seriesOf = (bars: Readonly<Record<string, BarColumns>>, size = 1_000): Array<RunSeries> =>
  Object.entries(bars).map(([key, columns]) => ({
    key,
    expected: columns.ts.length,
    bars: Stream.fromIterable(chunked(encodeBarColumns(columns), size))
  }))

const withoutBars = <A extends { readonly bars: unknown }>({ bars: _, ...rest }: A): Omit<A, "bars"> => rest

export const sha256 = (text: string) => createHash("sha256").update(text).digest("hex")

export const job = (
  source: string,
  bars: Readonly<Record<string, BarColumns>>,
  overrides: Partial<BacktestJob> = {}
): BacktestJob => ({
  ...withoutBars(runInputs(bars)),
  series: seriesOf(bars),
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
