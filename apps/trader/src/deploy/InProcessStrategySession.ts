/**
 * A `StrategySession` that runs strategy objects in this process: for tests and trusted built-in
 * code only, as nothing contains it. `resolve` finds the object for a code version (by its sha256).
 */
import type { Strategy } from "@quasar/providers/sdk"
import { Effect, Layer } from "effect"
import { LiveRun } from "../engine/LiveRun"
import type { StrategyCode } from "../strategies/StrategyCatalog"
import { StrategyFailed, StrategySession } from "./StrategySession"

const describe = (error: unknown) =>
  error instanceof Error ? `${error.name}: ${error.message}` : `thrown value: ${String(error)}`

export const layer = (resolve: (code: StrategyCode) => Strategy | undefined) =>
  Layer.succeed(StrategySession, {
    open: (code, params) =>
      Effect.gen(function* () {
        const strategy = resolve(code)
        if (strategy === undefined)
          return yield* new StrategyFailed({
            message: `no in-process strategy has the code of ${code.name} version ${code.version}`
          })
        const prepared = LiveRun.prepare(strategy, params)
        if (!prepared.ok) return yield* new StrategyFailed({ message: prepared.problems.join("; ") })
        const run = prepared.run
        return {
          warm: (bars) =>
            Effect.sync(() => {
              for (const bar of bars) run.push(bar)
            }),
          decide: (bars, account) =>
            Effect.try({
              try: () => run.decide(bars, account),
              catch: (error) =>
                new StrategyFailed({
                  message: `onBar threw at bar ${new Date(bars[0]?.ts ?? 0).toISOString()}: ${describe(error)}`
                })
            })
        }
      })
  })
