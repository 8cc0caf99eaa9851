/**
 * A sandboxed run is the engine's run: the same inputs give the result the in-process engine
 * gives, progress is reported on the way, and interrupting a run stops its child.
 */
import { readFileSync } from "node:fs"
import { expect, layer } from "@effect/vitest"
import { FillSettings } from "@quasar/domain"
import { Deferred, Effect, Fiber } from "effect"
import { BacktestExecutor } from "../../src/backtest/BacktestExecutor"
import type { Progress } from "../../src/engine/runBacktest"
import { runBacktest } from "../../src/engine/runBacktest"
import { input, walk } from "../engine/fixtures"
import { smaCross } from "../engine/smaCross"
import { executor, job, runningStrategies, sha256, strategySource } from "./support"

const MINUTE = 60_000
const smaCrossSource = `${readFileSync(new URL("../engine/smaCross.ts", import.meta.url), "utf8")}\nexport default smaCross\n`

layer(executor, { timeout: 90_000, excludeTestServices: true })("the sandboxed executor", (it) => {
  it.effect("gives the in-process engine's result for the same inputs, reporting progress", () =>
    Effect.gen(function* () {
      const btc = walk(3_000, 7)
      const params = { fast: 5, slow: 20 }
      const fill = FillSettings.make({})
      const reports: Array<Progress> = []
      const sandboxed = yield* Effect.flatMap(BacktestExecutor, (e) =>
        e.run(
          job(
            smaCrossSource,
            { "BTC/USD": btc },
            { language: "typescript", params, from: 30 * MINUTE, to: 2_999 * MINUTE + 1, fill }
          ),
          (p) => Effect.sync(() => void reports.push(p))
        )
      )
      const inProcess = runBacktest(
        input(
          smaCross,
          { "BTC/USD": btc },
          { params, from: 30 * MINUTE, fill, codeSha256: sha256(smaCrossSource) }
        )
      )
      if (!inProcess.ok) throw new Error(inProcess.problems.join("; "))
      expect(sandboxed).toStrictEqual(inProcess.result)
      expect(sandboxed.statistics.trades).toBeGreaterThan(5)
      expect(reports.at(-1)).toEqual({ done: 3_000, total: 3_000 })
      expect(reports.length).toBeGreaterThan(1)
      for (let i = 1; i < reports.length; i++)
        expect(reports[i]!.done).toBeGreaterThanOrEqual(reports[i - 1]!.done)
    })
  )

  it.effect("inputs that cannot run are the caller's fault, and say why", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Effect.flatMap(BacktestExecutor, (e) =>
          e.run(job(strategySource(""), { "ETH/USD": walk(10) }), () => Effect.void)
        )
      )
      expect(error.reason).toBe("inputs")
      expect(error.message).toContain("no bars given for BTC/USD")
    })
  )

  it.effect("a module that does not build or load is the caller's fault", () =>
    Effect.gen(function* () {
      const run = (source: string) =>
        Effect.flip(
          Effect.flatMap(BacktestExecutor, (e) =>
            e.run(job(source, { "BTC/USD": walk(10) }), () => Effect.void)
          )
        )
      const importsFs = yield* run(`import { readFileSync } from "node:fs"\nexport default readFileSync`)
      expect(importsFs.reason).toBe("inputs")
      expect(importsFs.message).toContain('import of "node:fs" is not allowed')
      const notAStrategy = yield* run("export default { kind: 'provider' }")
      expect(notAStrategy.reason).toBe("inputs")
      expect(notAStrategy.message).toContain("build it with defineStrategy")
    })
  )

  it.effect("interrupting a run stops its child", () =>
    Effect.gen(function* () {
      const started = yield* Deferred.make<void>()
      const slow = strategySource("const until = Date.now() + 1; while (Date.now() < until) {}")
      const fiber = yield* Effect.flatMap(BacktestExecutor, (e) =>
        e.run(job(slow, { "BTC/USD": walk(100_000) }), () => Deferred.succeed(started, undefined))
      ).pipe(Effect.fork)
      yield* Deferred.await(started)
      // Node, and `unshare` above it where namespaces are available.
      expect(runningStrategies().length).toBeGreaterThan(0)
      yield* Fiber.interrupt(fiber)
      expect(runningStrategies()).toEqual([])
    })
  )
})
