/**
 * Trader as its own process for the crash test: the app and `runService` of main.ts, with the
 * strategies of brokerModules.ts in process, kraken-broker in process against a fake Kraken, and
 * live bars from memory (bar 0 of BTC/USD at BAR_PRICE is published once a deployment listens).
 *
 * Environment, besides the service's own: FAKE_KRAKEN_URL, BROKER_API_KEY, BROKER_API_SECRET,
 * BAR_PRICE, and HANG_AFTER_PLACE=1 for the crash window: once the broker has placed an order its
 * call never returns (so the order stays recorded as sending) and `order at the broker` is printed.
 */
import { ProviderName } from "@quasar/domain"
import { krakenBroker } from "@quasar/providers/kraken"
import { runService } from "@quasar/server/node"
import { Effect, Layer } from "effect"
import { appLayer } from "../../src/App"
import { BrokerHost } from "../../src/broker/BrokerHost"
import * as InProcessStrategySession from "../../src/deploy/InProcessStrategySession"
import { SymbolMappings } from "../../src/strategies/SymbolMappings"
import * as InProcessBrokerHost from "../../src/testing/InProcessBrokerHost"
import * as InProcessExecutor from "../../src/testing/InProcessExecutor"
import * as MemoryBarsFeed from "../../src/testing/MemoryBarsFeed"
import * as MemoryLiveBars from "../../src/testing/MemoryLiveBars"
import * as StrategyModules from "../../src/testing/StrategyModules"
import { BAR0, brokerMappings, brokerModules, fakeKrakenSettings, ORDER_AT_BROKER } from "./brokerModules"

const env = (name: string) => {
  const value = process.env[name]
  if (value === undefined) throw new Error(`${name} is not set`)
  return value
}

const live = Effect.runSync(MemoryLiveBars.make)
const price = Number(env("BAR_PRICE"))

const inProcess = InProcessBrokerHost.layer({
  modules: {
    "kraken-broker": {
      broker: krakenBroker,
      settings: fakeKrakenSettings(env("FAKE_KRAKEN_URL"), env("BROKER_API_KEY"), env("BROKER_API_SECRET"))
    }
  }
})

/** The crash window: the broker has the order, Trader has not recorded it yet. */
const hanging = Layer.effect(
  BrokerHost,
  Effect.map(BrokerHost, (host) => ({
    open: (broker: string) =>
      Effect.map(host.open(broker), (handle) => ({
        ...handle,
        placeOrder: (order: Parameters<typeof handle.placeOrder>[0]) =>
          handle
            .placeOrder(order)
            .pipe(
              Effect.zipRight(Effect.sync(() => process.stdout.write(`${ORDER_AT_BROKER}\n`))),
              Effect.zipRight(Effect.never)
            )
      }))
  }))
).pipe(Layer.provide(inProcess))

const barZero = Layer.effectDiscard(
  live.memory.listening(1).pipe(
    Effect.zipRight(
      live.memory.publish({
        series: { provider: ProviderName.make("kraken"), symbol: "BTC/USD", timeframe: "1m" },
        ts: BAR0,
        open: price,
        high: price,
        low: price,
        close: price,
        volume: 1
      })
    ),
    Effect.forkDaemon
  )
)

runService({
  name: "trader",
  portVariable: "TRADER_PORT",
  defaultPort: 8082,
  app: () =>
    Layer.merge(
      appLayer({
        executor: InProcessExecutor.layer(brokerModules),
        strategies: StrategyModules.catalog(brokerModules),
        mappings: SymbolMappings.table(brokerMappings),
        bars: MemoryBarsFeed.layer(new Map()),
        sessions: InProcessStrategySession.layer(
          (code) => brokerModules.find((m) => m.sha256 === code.sha256)?.strategy
        ),
        liveBars: live.layer,
        brokers: process.env.HANG_AFTER_PLACE === "1" ? hanging : inProcess
      }),
      barZero
    )
})
