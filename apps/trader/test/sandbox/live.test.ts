import { expect, layer } from "@effect/vitest"
import type { Bar } from "@quasar/providers/sdk"
import { Duration, Effect, Layer, Logger, LogLevel } from "effect"
import { StrategySession } from "../../src/deploy/StrategySession"
import { SandboxedStrategySession } from "../../src/sandbox/SandboxedStrategySession"
import type { StrategyCode } from "../../src/strategies/StrategyCatalog"
import { runningStrategies, sha256, strategySource } from "./support"

const sessions = SandboxedStrategySession.layer({
  callLimit: Duration.seconds(2),
  limits: { heapMb: 64, rssMb: 256, loadTimeout: Duration.seconds(20) }
}).pipe(Layer.provide(Logger.minimumLogLevel(LogLevel.Error)))

const code = (source: string): StrategyCode => ({
  name: "live-test",
  version: 1,
  language: "javascript",
  sha256: sha256(source),
  source,
  manifest: { version: "1.0.0", params: {}, universe: { timeframe: "1d", symbols: ["BTC/USD"] }, warmup: 0 }
})

const bar = (i: number, close: number): Bar => ({
  symbol: "BTC/USD",
  ts: i * 86_400_000,
  open: close,
  high: close,
  low: close,
  close,
  volume: 1
})
const flat = { cash: 1_000, positions: new Map(), openOrders: [], nextOrderId: 1 }

layer(sessions, { timeout: 60_000 })("the sandboxed live session", (it) => {
  it.scoped("runs onBar bar by bar in the sandbox, with indicators warmed, and gives back its orders", () =>
    Effect.gen(function* () {
      const source = strategySource(`
    const sma = ctx.sma("BTC/USD", 3)
    ctx.log("sma " + sma + " cash " + ctx.cash + " open " + ctx.openOrders.length)
    if (sma !== undefined && sma > 100) ctx.order({ symbol: "BTC/USD", side: "buy", type: "market", notional: ctx.cash / 2, junk: () => 1 })`)
      const session = yield* Effect.flatMap(StrategySession, (s) => s.open(code(source), {}))
      yield* session.warm([bar(0, 100), bar(1, 101)])
      const decision = yield* session.decide([bar(2, 102)], flat)
      expect(decision.orders).toEqual([{ symbol: "BTC/USD", side: "buy", type: "market", notional: 500 }])
      expect(decision.logs.map((l) => l.message)).toEqual(["sma 101 cash 1000 open 0"])
      const none = yield* session.decide([bar(3, 90)], {
        ...flat,
        openOrders: [
          { id: 1, symbol: "BTC/USD", side: "buy", type: "market", quantity: 1, placedAt: 0, status: "open" }
        ],
        nextOrderId: 2
      })
      expect(none.orders).toEqual([])
      expect(none.logs.map((l) => l.message)).toEqual([`sma ${(101 + 102 + 90) / 3} cash 1000 open 1`])
    })
  )

  it.effect(
    "a strategy that throws or never returns fails its session, saying why, and no child outlives it",
    () =>
      Effect.gen(function* () {
        const throwing = yield* Effect.flatMap(StrategySession, (s) =>
          s.open(code(strategySource(`throw new Error("boom")`)), {})
        )
        const threw = yield* Effect.flip(throwing.decide([bar(0, 1)], flat))
        expect(threw.message).toContain("boom")

        const looping = yield* Effect.flatMap(StrategySession, (s) =>
          s.open(code(strategySource("for (;;) {}")), {})
        )
        const stuck = yield* Effect.flip(looping.decide([bar(0, 1)], flat))
        expect(stuck.message).toMatch(/limit|stopped/)
      }).pipe(Effect.scoped, Effect.zipRight(Effect.sync(() => expect(runningStrategies()).toEqual([]))))
  )
})
