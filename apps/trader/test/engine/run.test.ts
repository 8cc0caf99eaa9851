import { describe, expect, it } from "@effect/vitest"
import { BacktestResult, FillSettings } from "@quasar/domain"
import { defineStrategy } from "@quasar/providers/sdk"
import { Deferred, Effect, Exit, Fiber, Schema } from "effect"
import { runBacktest, runBacktestEffect } from "../../src/engine/runBacktest"
import { DAY, flatBars, input, scripted, walk } from "./fixtures"
import { smaCross } from "./smaCross"

const MINUTE = 60_000

const completed = (outcome: ReturnType<typeof runBacktest>) => {
  if (!outcome.ok) throw new Error(outcome.problems.join("; "))
  return outcome.result
}

const btc = walk(3_000, 7)
const crossInput = (params: Record<string, unknown> = {}) =>
  input(smaCross, { "BTC/USD": btc }, { params, from: 30 * MINUTE, fill: FillSettings.make({}) })

describe("a backtest run", () => {
  it("gives identical results for identical inputs, and records them", () => {
    const params = { fast: 5, slow: 20 }
    const first = completed(runBacktest(crossInput(params)))
    const second = completed(runBacktest(crossInput(params)))
    expect(second).toStrictEqual(first)
    expect(first.statistics.trades).toBeGreaterThan(5)
    expect(first.inputs).toEqual({
      strategy: "sma-cross",
      strategyVersion: "1.0.0",
      codeSha256: "a".repeat(64),
      params: { fast: 5, slow: 20, fraction: 0.95 },
      provider: "kraken",
      timeframe: "1m",
      universe: ["BTC/USD"],
      from: 30 * MINUTE,
      to: 2_999 * MINUTE + 1,
      initialCash: 1_000,
      fill: { feeBps: 10, slippageBps: 5 }
    })
    // Other parameters give another result: the parameters do reach the strategy.
    const other = completed(runBacktest(crossInput({ fast: 8, slow: 40 })))
    expect(other.fills).not.toEqual(first.fills)
    // Bars before `from` only warm up: 30 of the 3,000 bar times are not traded.
    expect(first.equity.ts).toHaveLength(2_970)
    expect(first.progress).toEqual({ done: 3_000, total: 3_000 })
  })

  it("encodes to the domain schema and decodes back unchanged", () => {
    const result = completed(runBacktest(crossInput()))
    const encoded = Schema.encodeSync(BacktestResult)(result)
    expect(Schema.decodeUnknownSync(BacktestResult)(JSON.parse(JSON.stringify(encoded)))).toStrictEqual(
      result
    )
  })

  it("warms indicators up on bars before `from`", () => {
    const seen: Array<number | undefined> = []
    const strategy = defineStrategy({
      ...scripted(() => {}),
      warmup: 3,
      onBar(ctx) {
        seen.push(ctx.sma("BTC/USD", 3), ctx.window("BTC/USD").length)
      }
    })
    // Closes 1 to 6 on days 0 to 5; trading from day 3, so days 0 to 2 only warm up.
    completed(runBacktest(input(strategy, { "BTC/USD": flatBars([1, 2, 3, 4, 5, 6]) }, { from: 3 * DAY })))
    // Day 3: (2 + 3 + 4) / 3 = 3, window of 4 bars; day 4: 4, 5 bars; day 5: 5, 6 bars.
    expect(seen).toEqual([3, 4, 4, 5, 5, 6])
  })

  it("merges the universe by time and hands bars of one time over together", () => {
    const calls: Array<string> = []
    const strategy = scripted(
      (ctx, bars) => calls.push(`${ctx.time / DAY}:${bars.map((b) => b.symbol).join("+")}`),
      ["A", "B"]
    )
    const a = flatBars([10, 20, 30], 0) // days 0, 1, 2
    const b = flatBars([5, 10], DAY) // days 1, 2
    const result = completed(runBacktest(input(strategy, { A: a, B: b })))
    expect(calls).toEqual(["0:A", "1:A+B", "2:A+B"])
    // Benchmark: 500 in each; A's 50 units bought at day 0's open 10, B's 500 held as cash until
    // its first open (day 1, at 5: 100 units).
    // Day 0: 50 × 10 + 500 = 1000; day 1: 50 × 20 + 100 × 5 = 1500; day 2: 50 × 30 + 100 × 10 = 2500.
    expect(Array.from(result.equity.benchmark)).toEqual([1_000, 1_500, 2_500])
  })

  it("ends with a report naming the bar when the strategy throws", () => {
    const thrown: ReadonlyArray<unknown> = [
      new TypeError("price is undefined"),
      "a string",
      { not: "an error" }
    ]
    for (const error of thrown) {
      const strategy = scripted((ctx) => {
        if (ctx.time === 2 * DAY) throw error
      })
      const result = completed(runBacktest(input(strategy, { "BTC/USD": flatBars([1, 2, 3, 4]) })))
      expect(result.status).toBe("failed")
      expect(result.failure).toMatchObject({ barIndex: 2, ts: 2 * DAY })
      expect(result.failure!.message).toBe(
        error instanceof Error ? "TypeError: price is undefined" : `thrown value: ${String(error)}`
      )
      expect(result.equity.equity).toHaveLength(2)
      expect(result.progress).toEqual({ done: 2, total: 4 })
    }
  })

  it("reports what the strategy misuses in ctx as a failure", () => {
    const misuses: ReadonlyArray<[string, Parameters<typeof scripted>[0], RegExp]> = [
      ["an unknown symbol", (ctx) => ctx.position("ETH/USD"), /"ETH\/USD" is not in the universe/],
      [
        "a fractional period",
        (ctx) => ctx.sma("BTC/USD", 2.5),
        /ctx\.sma needs a whole period from 1 to 10000 \(got 2\.5\)/
      ],
      ["a zero period", (ctx) => ctx.ema("BTC/USD", 0), /ctx\.ema needs a whole period/],
      ["bad deviations", (ctx) => ctx.bollinger("BTC/USD", 20, -1), /ctx\.bollinger needs deviations/]
    ]
    for (const [, onBar, message] of misuses) {
      const result = completed(runBacktest(input(scripted(onBar), { "BTC/USD": flatBars([1, 2]) })))
      expect(result.status).toBe("failed")
      expect(result.failure!.message).toMatch(message)
    }
  })

  it("reports progress and stops between bars when aborted", () => {
    const controller = new AbortController()
    const reports: Array<number> = []
    const result = completed(
      runBacktest(crossInput(), {
        every: 500,
        signal: controller.signal,
        onProgress: ({ done, total }) => {
          expect(total).toBe(3_000)
          reports.push(done)
          if (done >= 1_500) controller.abort()
        }
      })
    )
    expect(reports).toEqual([500, 1_000, 1_500])
    expect(result.status).toBe("cancelled")
    expect(result.progress).toEqual({ done: 1_500, total: 3_000 })
    expect(result.equity.equity).toHaveLength(1_500 - 30)
    expect(result.orders.every((o) => o.status !== "open")).toBe(true)
  })

  it.effect("yields every N bars, so that the Effect can be interrupted mid-run", () =>
    Effect.gen(function* () {
      const halfway = yield* Deferred.make<void>()
      const reports: Array<number> = []
      const fiber = yield* Effect.fork(
        runBacktestEffect(crossInput(), {
          every: 100,
          onProgress: ({ done }) =>
            Effect.suspend(() => {
              reports.push(done)
              return done >= 1_000 ? Deferred.succeed(halfway, undefined) : Effect.void
            })
        })
      )
      yield* Deferred.await(halfway)
      const exit = yield* Fiber.interrupt(fiber)
      expect(Exit.isInterrupted(exit)).toBe(true)
      expect(reports.at(-1)).toBeLessThan(3_000)
      expect(reports.slice(0, 3)).toEqual([100, 200, 300])
    })
  )

  it.effect("runs to the end as an Effect, with the same result as the synchronous run", () =>
    Effect.gen(function* () {
      const result = yield* runBacktestEffect(crossInput({ fast: 5 }), { every: 250 })
      expect(result).toStrictEqual(completed(runBacktest(crossInput({ fast: 5 }))))
    })
  )

  it("refuses inputs it cannot run, naming every problem", () => {
    const good = crossInput()
    const shuffled = walk(10)
    shuffled.ts[5] = shuffled.ts[3]!
    const outcome = runBacktest({
      ...good,
      params: { fast: 1.5, slowest: 3 },
      codeSha256: "xyz",
      from: 10,
      to: 5,
      initialCash: Number.NaN,
      bars: new Map([
        ["BTC/USD", shuffled],
        ["ETH/USD", walk(3)]
      ])
    })
    expect(outcome.ok).toBe(false)
    if (outcome.ok) return
    expect(outcome.problems).toEqual([
      'unknown parameter "slowest"; known: fast, slow, fraction',
      "fast must be a whole number",
      "codeSha256 must be 64 lower-case hex digits",
      "from must be before to",
      "initialCash must be a finite number above 0",
      "BTC/USD: timestamps must rise strictly (bar 5 is not after bar 4)",
      "bars given for ETH/USD, which is not in the universe"
    ])
    const missing = runBacktest({ ...good, bars: new Map() })
    expect(missing.ok ? [] : missing.problems).toEqual(["no bars given for BTC/USD"])
  })

  it.effect("fails with InvalidRequest when the Effect is given inputs it cannot run", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(runBacktestEffect({ ...crossInput(), params: { fast: "ten" } }))
      expect(error._tag).toBe("InvalidRequest")
      expect(error.message).toMatch(/The backtest cannot start: fast must be a finite number/)
    })
  )
})
