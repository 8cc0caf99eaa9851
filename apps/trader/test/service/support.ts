/**
 * Trader as tests run it: the real app (HTTP server, run manager, PostgreSQL) with strategies
 * served from memory, bars from memory and the in-process executor, reached through the client
 * derived from TraderApi.
 */
import { HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { type BacktestRequest, ProviderName, TraderApi } from "@quasar/domain"
import type { DatabaseUrl } from "@quasar/server"
import { SchemaState } from "@quasar/server"
import { TestDatabase, TestService } from "@quasar/server/testing"
import { DateTime, Effect, type Layer } from "effect"
import { appLayer } from "../../src/App"
import { defaultRunnerOptions, type RunnerOptions } from "../../src/backtest/BacktestRunner"
import type { BrokerHost } from "../../src/broker/BrokerHost"
import * as InProcessStrategySession from "../../src/deploy/InProcessStrategySession"
import type { LiveBars } from "../../src/deploy/LiveBars"
import type { StrategySession } from "../../src/deploy/StrategySession"
import type { BarColumns } from "../../src/engine/types"
import { SymbolMappings } from "../../src/strategies/SymbolMappings"
import * as InProcessExecutor from "../../src/testing/InProcessExecutor"
import * as MemoryBarsFeed from "../../src/testing/MemoryBarsFeed"
import * as MemoryLiveBars from "../../src/testing/MemoryLiveBars"
import * as StrategyModules from "../../src/testing/StrategyModules"
import { scripted, walk } from "../engine/fixtures"
import { smaCross } from "../engine/smaCross"

export const T0 = Date.UTC(2024, 0, 1)
export const MINUTE = 60_000
export const BARS = 2_000
export const kraken = ProviderName.make("kraken")

/** `n` one-minute BTC/USD bars from T0 (a deterministic random walk). */
export const btcBars = (n = BARS): BarColumns => {
  const columns = walk(n, 7)
  return { ...columns, ts: columns.ts.map((t) => t + T0) }
}

export const smaModule = StrategyModules.strategyModule("sma-cross", 1, smaCross)
/** Throws from its 500th bar time on. */
export const throwerModule = StrategyModules.strategyModule(
  "thrower",
  1,
  scripted(
    (ctx) => {
      if (ctx.time >= T0 + 500 * MINUTE) throw new Error("boom")
    },
    ["BTC/USD"],
    "1m"
  )
)

export const unrunnableModule = StrategyModules.strategyModule("unrunnable", 1, smaCross, {
  source: "// never runs\n"
})

export const smaModuleV2 = StrategyModules.strategyModule("sma-cross", 2, smaCross, {
  active: false,
  source: "// sma-cross, second upload\n"
})

export interface TraderTestOptions {
  readonly modules?: ReadonlyArray<StrategyModules.StrategyModule>
  /** In the catalog, but the executor cannot run them (it aborts, as a sandbox that stops code does). */
  readonly unrunnable?: ReadonlyArray<StrategyModules.StrategyModule>
  readonly series?: ReadonlyMap<string, BarColumns>
  readonly executor?: InProcessExecutor.InProcessOptions
  readonly runner?: Partial<RunnerOptions>
  readonly database?: Layer.Layer<DatabaseUrl>
  /** Default: a feed that never sends a bar. */
  readonly liveBars?: Layer.Layer<LiveBars>
  /** Default: the modules' strategy objects, in this process. */
  readonly sessions?: Layer.Layer<StrategySession>
  /** Default: every common symbol is the provider's and the broker's own. */
  readonly mappings?: Layer.Layer<SymbolMappings>
  /** Default: no broker can be opened. */
  readonly brokers?: Layer.Layer<BrokerHost>
}

export const defaultSeries = () => new Map([[MemoryBarsFeed.seriesKey("kraken", "BTC/USD", "1m"), btcBars()]])

export const traderLayer = (options: TraderTestOptions = {}) => {
  const modules = options.modules ?? [smaModule, smaModuleV2, throwerModule]
  return TestService.layer(
    appLayer({
      executor: InProcessExecutor.layer(modules, options.executor ?? { every: 250 }),
      strategies: StrategyModules.catalog([...modules, ...(options.unrunnable ?? [])]),
      mappings: options.mappings ?? SymbolMappings.identity,
      bars: MemoryBarsFeed.layer(options.series ?? defaultSeries()),
      runner: { ...defaultRunnerOptions, ...options.runner },
      sessions:
        options.sessions ??
        InProcessStrategySession.layer((code) => modules.find((m) => m.sha256 === code.sha256)?.strategy),
      liveBars: options.liveBars ?? Effect.runSync(MemoryLiveBars.make).layer,
      ...(options.brokers === undefined ? {} : { brokers: options.brokers })
    }),
    options.database ?? TestDatabase.layer
  )
}

/** The default test app, with a strategy the executor cannot run. */
export const defaultTrader = () => traderLayer({ unrunnable: [unrunnableModule] })

export const ready = Effect.flatMap(SchemaState.SchemaState, (s) => s.ready)

/** The derived Trader client, with the admin token unless `token` is null. */
export const traderClient = (token: string | null = TestService.ADMIN_TOKEN) =>
  HttpApiClient.make(
    TraderApi,
    token === null ? {} : { transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken(token)) }
  )

/** A request as the client sends it (the encoded side: defaults may be left out). */
export const request = (overrides: Partial<BacktestRequest> = {}): BacktestRequest => ({
  strategy: "sma-cross",
  provider: kraken,
  from: DateTime.unsafeMake(T0 + 100 * MINUTE),
  to: DateTime.unsafeMake(T0 + BARS * MINUTE),
  params: { fast: 5, slow: 20 },
  initialCash: 10_000,
  fill: { feeBps: 10, slippageBps: 5 },
  ...overrides
})
