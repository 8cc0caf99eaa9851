import { readFileSync } from "node:fs"
import { expect, layer } from "@effect/vitest"
import { Duration, Effect, Layer, Logger, LogLevel } from "effect"
import { runBacktest } from "../../src/engine/runBacktest"
import { SandboxedStrategySession } from "../../src/sandbox/SandboxedStrategySession"
import * as StrategyModules from "../../src/testing/StrategyModules"
import { smaCross } from "../engine/smaCross"
import { deployment, feed, live } from "./deploymentsSupport"
import { btcBars, kraken, ready, traderClient, traderLayer } from "./support"

/** The README's example as uploaded source (1-minute bars), run in the sandbox as in production. */
const source = `${readFileSync(new URL("../engine/smaCross.ts", import.meta.url), "utf8")}\nexport default smaCross\n`
const readmeModule = StrategyModules.strategyModule("sma-cross", 1, smaCross, { source })
const BARS = 150
const bars = btcBars(BARS)

const sessions = SandboxedStrategySession.layer({
  callLimit: Duration.seconds(10),
  limits: { loadTimeout: Duration.seconds(30) }
}).pipe(Layer.orDie, Layer.provide(Logger.minimumLogLevel(LogLevel.Error)))

layer(traderLayer({ modules: [readmeModule], liveBars: live.layer, sessions }), { timeout: 120_000 })(
  "a deployment whose strategy runs in the sandbox",
  (it) => {
    it.effect(
      "the README's SMA cross trades on paper at the bars, sides and prices of its backtest",
      () =>
        Effect.gen(function* () {
          yield* ready
          const api = yield* traderClient()
          const params = { fast: 5, slow: 20 }
          const created = yield* api.deployments.create({
            payload: deployment({
              strategy: "sma-cross",
              params,
              account: { type: "paper", initialCash: 10_000, quote: "USD", feeBps: 10, slippageBps: 5 },
              risk: { maxOrderNotional: 1e9, maxPositionNotional: 1e9, maxDailyLoss: 1e9 }
            })
          })
          yield* api.deployments.start({ path: { id: created.id } })
          for (let i = 0; i < BARS; i++) yield* feed(created.id, 1, i, bars.close[i]!, bars)

          const ran = runBacktest({
            strategy: smaCross,
            codeSha256: readmeModule.sha256,
            params,
            provider: kraken,
            from: bars.ts[0]!,
            to: bars.ts[BARS - 1]! + 60_000,
            initialCash: 10_000,
            fill: { feeBps: 10, slippageBps: 5 },
            bars: new Map([["BTC/USD", bars]])
          })
          if (!ran.ok) throw new Error(ran.problems.join())
          const fills = yield* api.deployments.fills({ path: { id: created.id }, urlParams: {} })
          expect(ran.result.fills.length).toBeGreaterThan(2)
          expect(fills.map((f) => [f.ts, f.side, f.price])).toEqual(
            ran.result.fills.map((f) => [f.ts, f.side, f.price])
          )
          expect((yield* api.deployments.get({ path: { id: created.id } })).status).toBe("running")
        }),
      120_000
    )
  }
)
