/** Strategies of the broker deployment tests (also loaded by the Trader process of the crash test). */
import * as StrategyModules from "../../src/testing/StrategyModules"
import { scripted } from "../engine/fixtures"

export const QUANTITY = 0.01

/** On its first bar: buys QUANTITY at market and rests a limit buy of QUANTITY at half the close. */
export const brokerBuyModule = StrategyModules.strategyModule(
  "broker-buy",
  1,
  scripted(
    (ctx, bars) => {
      for (const bar of bars)
        if (ctx.position(bar.symbol).quantity === 0 && ctx.openOrders.length === 0) {
          ctx.order({ symbol: bar.symbol, side: "buy", type: "market", quantity: QUANTITY })
          ctx.order({
            symbol: bar.symbol,
            side: "buy",
            type: "limit",
            quantity: QUANTITY,
            limitPrice: Math.round(bar.close / 2)
          })
        }
    },
    ["BTC/USD"],
    "1m"
  )
)

/** On its first bar: buys QUANTITY at market, once. */
export const brokerBuyOnceModule = StrategyModules.strategyModule(
  "broker-buy-once",
  1,
  scripted(
    (ctx, bars) => {
      for (const bar of bars)
        if (ctx.position(bar.symbol).quantity === 0 && ctx.openOrders.length === 0)
          ctx.order({ symbol: bar.symbol, side: "buy", type: "market", quantity: QUANTITY })
    },
    ["BTC/USD"],
    "1m"
  )
)

/** Trades ETH/USD, which the tests' mappings do not give the broker. */
export const unmappedModule = StrategyModules.strategyModule(
  "broker-eth",
  1,
  scripted(() => undefined, ["ETH/USD"], "1m")
)

export const brokerModules = [brokerBuyModule, brokerBuyOnceModule, unmappedModule]

/** The tests' mappings: Kraken names BTC/USD XBT/USD. */
export const brokerMappings = { "kraken-broker": { "BTC/USD": "XBT/USD" } }

/** kraken-broker's settings for a fake Kraken account: quick polls, short timeouts and deadlines. */
export const fakeKrakenSettings = (restUrl: string, apiKey: string, apiSecret: string) => ({
  restUrl,
  apiKey,
  apiSecret,
  pollIntervalMs: 20,
  requestTimeoutMs: 1_000,
  orderDeadlineMs: 2_000
})

/** What the crash test's Trader process prints once the broker has placed an order it will never record. */
export const ORDER_AT_BROKER = "order at the broker"
/** The open time of the bar the crash test's Trader process publishes: 2024-01-01T00:00Z. */
export const BAR0 = Date.UTC(2024, 0, 1)
