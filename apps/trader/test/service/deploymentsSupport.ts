/** Deployments as tests run them: a buy-once strategy, live bars from memory, and helpers to feed them. */
import type { DeploymentId, DeploymentRequest } from "@quasar/domain"
import { Effect } from "effect"
import { DeploymentRunner } from "../../src/deploy/DeploymentRunner"
import type { BarColumns } from "../../src/engine/types"
import * as MemoryLiveBars from "../../src/testing/MemoryLiveBars"
import * as StrategyModules from "../../src/testing/StrategyModules"
import { scripted } from "../engine/fixtures"
import { kraken, MINUTE, smaModule, T0, type TraderTestOptions, traderLayer } from "./support"

/** Buys half its cash on its first bar, then holds. */
export const buyOnceModule = StrategyModules.strategyModule(
  "buy-once",
  1,
  scripted(
    (ctx, bars) => {
      for (const bar of bars)
        if (ctx.position(bar.symbol).quantity === 0 && ctx.openOrders.length === 0 && ctx.cash > 6_000)
          ctx.order({ symbol: bar.symbol, side: "buy", type: "market", notional: ctx.cash / 2 })
    },
    ["BTC/USD"],
    "1m"
  )
)

/** Orders once its window holds 50 bars: on the first live bar only when stored bars warmed it up. */
export const warmedModule = StrategyModules.strategyModule(
  "warmed",
  1,
  scripted(
    (ctx, bars) => {
      for (const bar of bars)
        if (
          ctx.window(bar.symbol).length >= 50 &&
          ctx.openOrders.length === 0 &&
          ctx.position(bar.symbol).quantity === 0
        )
          ctx.order({ symbol: bar.symbol, side: "buy", type: "market", quantity: 1 })
    },
    ["BTC/USD"],
    "1m"
  )
)

export const live = Effect.runSync(MemoryLiveBars.make)

/** Bar `i` (at T0 + i minutes): all at `price`, or row `i` of `columns` when given. */
export const liveBar = (i: number, price: number, columns?: BarColumns) =>
  live.memory.publish({
    series: { provider: kraken, symbol: "BTC/USD", timeframe: "1m" },
    ts: T0 + i * MINUTE,
    open: columns?.open[i] ?? price,
    high: columns?.high[i] ?? price,
    low: columns?.low[i] ?? price,
    close: columns?.close[i] ?? price,
    volume: columns?.volume[i] ?? 1
  })

export const deployment = (overrides: Partial<DeploymentRequest> = {}): DeploymentRequest => ({
  strategy: "buy-once",
  provider: kraken,
  params: {},
  account: { type: "paper", initialCash: 10_000, quote: "USD", feeBps: 10, slippageBps: 0 },
  risk: { maxOrderNotional: 6_000, maxPositionNotional: 8_000, maxDailyLoss: 1_000 },
  ...overrides
})

/** Publishes bar `i` once the deployment listens, and waits until it has handled it (or has ended). */
export const feed = (id: DeploymentId, listeners: number, i: number, price: number, columns?: BarColumns) =>
  Effect.gen(function* () {
    const runner = yield* DeploymentRunner
    // A deployment whose fiber has ended listens no more: the test's assertions then say why.
    yield* Effect.raceFirst(live.memory.listening(listeners), runner.reached(id, Number.POSITIVE_INFINITY))
    yield* liveBar(i, price, columns)
    yield* runner.reached(id, T0 + i * MINUTE)
  })

export const trader = (database?: TraderTestOptions["database"]) =>
  traderLayer({
    modules: [smaModule, buyOnceModule, warmedModule],
    liveBars: live.layer,
    ...(database === undefined ? {} : { database })
  })
