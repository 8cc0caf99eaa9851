/**
 * Bars reach the child as files of bar columns that grow as DataHub's answer arrives: a run over
 * one block, and over the same bars in uneven blocks, cut anywhere and arriving slowly, gives the
 * result the in-process engine gives for the same inputs, also for members that arrive apart;
 * bars that stop coming end the run.
 */
import { readdirSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { expect, layer } from "@effect/vitest"
import { encodeBarColumnBlocks, encodeBarColumns, FillSettings, ServiceUnavailable } from "@quasar/domain"
import { defineStrategy } from "@quasar/providers/sdk"
import { Duration, Effect, Layer, Logger, LogLevel, Stream } from "effect"
import { BacktestExecutor } from "../../src/backtest/BacktestExecutor"
import { runBacktest } from "../../src/engine/runBacktest"
import type { BarColumns } from "../../src/engine/types"
import { SandboxedBacktestExecutor } from "../../src/sandbox/SandboxedBacktestExecutor"
import { input, walk } from "../engine/fixtures"
import { smaCross } from "../engine/smaCross"
import { chunked, job, runningStrategies, sha256 } from "./support"

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

        // The same bars in uneven blocks (one bar, long blocks and short ones), their bytes cut
        // anywhere, some arriving only after the run has gone through the ones before: the run is the same.
        const cuts = [0, 1, 701, 751, 1_751, BARS]
        const answer = encodeBarColumnBlocks(cuts.slice(1).map((end, i) => chunkOf(btc, cuts[i]!, end)))
        for (const size of [7, 4_096, 100_000]) {
          const series = [
            {
              key: "BTC/USD",
              expected: BARS,
              bars: Stream.fromIterable(chunked(answer, size)).pipe(
                // Real time between chunks: the run goes through what it has and waits for more.
                Stream.tap(() =>
                  size === 4_096 ? Effect.promise(() => new Promise((r) => setTimeout(r, 2))) : Effect.void
                )
              )
            }
          ]
          const fromBlocks = yield* Effect.flatMap(BacktestExecutor, (e) =>
            e.run(
              { ...job(smaCrossSource, {}, { language: "typescript", params, from, to, fill }), series },
              () => Effect.void
            )
          )
          expect(fromBlocks).toStrictEqual(inProcess.result)
        }
        // Each run's directory, its bar files with it, is removed when the run ends.
        expect(barFilesLeft()).toEqual([])
      })
    )

    it.effect("members whose bars arrive at different paces still hand bars of one time over together", () =>
      Effect.gen(function* () {
        // A pair strategy: it records which symbols each onBar call got, and trades A on B's move.
        const source = `import { defineStrategy } from "@quasar/providers/sdk"
export default defineStrategy({
  name: "pair", version: "1.0.0", params: {},
  universe: { timeframe: "1m", symbols: ["A", "B"] }, warmup: 0,
  onBar(ctx, bars) {
    ctx.log(bars.map((b) => b.symbol).join("+"))
    const b = bars.find((x) => x.symbol === "B")
    if (b === undefined) return
    const held = ctx.position("A").quantity
    if (b.close > b.open && held === 0) ctx.order({ symbol: "A", side: "buy", notional: ctx.cash / 2, type: "market" })
    else if (b.close < b.open && held > 0) ctx.order({ symbol: "A", side: "sell", quantity: held, type: "market" })
  }
})
`
        const n = 400
        const a = walk(n, 3)
        // B misses every seventh minute of A's, and has one A lacks: bar times do not line up.
        const keep = Array.from({ length: n }, (_, i) => i % 7 !== 3)
        const pick = (c: Float64Array) => c.filter((_, i) => keep[i])
        const walkB = walk(n, 9)
        const b = {
          ts: Float64Array.from([...pick(walkB.ts), n * MINUTE]),
          open: Float64Array.from([...pick(walkB.open), 100]),
          high: Float64Array.from([...pick(walkB.high), 101]),
          low: Float64Array.from([...pick(walkB.low), 99]),
          close: Float64Array.from([...pick(walkB.close), 100.5]),
          volume: Float64Array.from([...pick(walkB.volume), 1])
        }
        const from = 0
        const to = (n + 1) * MINUTE
        const slowly = (bytes: Uint8Array, size: number, ms: number) =>
          Stream.fromIterable(chunked(bytes, size)).pipe(
            Stream.tap(() => Effect.promise(() => new Promise((r) => setTimeout(r, ms))))
          )
        const run = yield* Effect.flatMap(BacktestExecutor, (e) =>
          e.run(
            {
              ...job(source, {}, { from, to }),
              series: [
                // A arrives whole at once; B only later: A's bars wait for B's.
                { key: "A", expected: n, bars: Stream.make(encodeBarColumns(a)) },
                { key: "B", expected: n, bars: slowly(encodeBarColumns(b), 2_000, 3) }
              ]
            },
            () => Effect.void
          )
        )
        // The same strategy in this process, handed every bar at once, gives the same result.
        const pair = defineStrategy({
          name: "pair",
          version: "1.0.0",
          params: {},
          universe: { timeframe: "1m", symbols: ["A", "B"] },
          warmup: 0,
          onBar(ctx, bars) {
            ctx.log(bars.map((bar) => bar.symbol).join("+"))
            const moved = bars.find((x) => x.symbol === "B")
            if (moved === undefined) return
            const held = ctx.position("A").quantity
            if (moved.close > moved.open && held === 0)
              ctx.order({ symbol: "A", side: "buy", notional: ctx.cash / 2, type: "market" })
            else if (moved.close < moved.open && held > 0)
              ctx.order({ symbol: "A", side: "sell", quantity: held, type: "market" })
          }
        })
        const inProcess = runBacktest(input(pair, { A: a, B: b }, { from, to, codeSha256: sha256(source) }))
        if (!inProcess.ok) throw new Error(inProcess.problems.join("; "))
        expect(run).toStrictEqual(inProcess.result)
        // Every bar time of either member ran once, with the bars of both where both have one.
        expect(run.progress).toEqual({ done: n + 1, total: n + 1 })
        const calls = run.logs.map((l) => l.message)
        expect(calls.length).toBe(n + 1)
        expect(calls.filter((c) => c === "A").length).toBe(keep.filter((k) => !k).length)
        expect(calls.at(-1)).toBe("B")
        expect(calls.filter((c) => c === "A+B").length).toBe(n - keep.filter((k) => !k).length)
        expect(run.fills.length).toBeGreaterThan(10)
        expect(run.status).toBe("completed")
      })
    )

    it.effect("bars that stop coming, or an answer cut short, end the run as DataHub's failure", () =>
      Effect.gen(function* () {
        const btc = walk(BARS, 11)
        const answer = encodeBarColumns(btc)
        const base = job(
          smaCrossSource,
          {},
          { language: "typescript", params: { fast: 5, slow: 20 }, from: 30 * MINUTE, to: BARS * MINUTE }
        )
        const runWith = (bars: Stream.Stream<Uint8Array, ServiceUnavailable>) =>
          Effect.flatMap(BacktestExecutor, (e) =>
            e.run({ ...base, series: [{ key: "BTC/USD", expected: BARS, bars }] }, () => Effect.void)
          ).pipe(Effect.flip)
        const stopped = yield* runWith(
          Stream.fromIterable(chunked(answer, 10_000)).pipe(
            Stream.take(5),
            Stream.concat(Stream.fail(new ServiceUnavailable({ message: "DataHub went away" })))
          )
        )
        expect(stopped.reason).toBe("bars")
        expect(stopped.message).toMatch(/DataHub stopped serving the bars of BTC\/USD: DataHub went away/)
        // The answer's framing is the feed's to check (ColumnarBarsFeed); the child refuses a
        // file that ends before its end block all the same.
        const cut = yield* runWith(Stream.make(answer.subarray(0, answer.length - 8)))
        expect(cut.reason).toBe("inputs")
        expect(cut.message).toMatch(/the answer ends before its end block/)
        expect(runningStrategies()).toEqual([])
        expect(barFilesLeft()).toEqual([])
      })
    )
  }
)
