/** Everything Trader runs, given an HTTP server, a database and its configuration. */
import { HttpApiBuilder, type HttpClient, Socket } from "@effect/platform"
import { TraderApi } from "@quasar/domain"
import { TRADER_SCHEMA, traderMigrations } from "@quasar/migrations/trader"
import { type DatabaseUrl, Health, HttpService, SchemaState, type ServiceConfig } from "@quasar/server"
import { Effect, Layer } from "effect"
import { BacktestsApiLive } from "./BacktestsApi"
import type { BacktestExecutor } from "./backtest/BacktestExecutor"
import { BacktestPlanner } from "./backtest/BacktestPlanner"
import { BacktestRunner, defaultRunnerOptions, type RunnerOptions } from "./backtest/BacktestRunner"
import { BacktestsRepo } from "./backtest/BacktestsRepo"
import type { BarsFeed } from "./bars/BarsFeed"
import * as ColumnarBarsFeed from "./bars/ColumnarBarsFeed"
import { BrokerHost, BrokerRejected } from "./broker/BrokerHost"
import * as SandboxedBrokerHost from "./broker/SandboxedBrokerHost"
import { DataHubClient } from "./clients/DataHubClient"
import { RegistryClient } from "./clients/RegistryClient"
import { DeploymentsApiLive } from "./DeploymentsApi"
import { DeploymentRunner } from "./deploy/DeploymentRunner"
import { DeploymentsRepo } from "./deploy/DeploymentsRepo"
import type { LiveBars } from "./deploy/LiveBars"
import { StrategyFailed, StrategySession } from "./deploy/StrategySession"
import * as WebSocketLiveBars from "./deploy/WebSocketLiveBars"
import { HealthApiLive } from "./HealthApi"
import { PortfolioApiLive } from "./PortfolioApi"
import { PortfolioView } from "./portfolio/PortfolioView"
import { SandboxedBacktestExecutor } from "./sandbox/SandboxedBacktestExecutor"
import { SandboxedStrategySession } from "./sandbox/SandboxedStrategySession"
import * as RegistryStrategyCatalog from "./strategies/RegistryStrategyCatalog"
import type { StrategyCatalog } from "./strategies/StrategyCatalog"
import { SymbolMappings } from "./strategies/SymbolMappings"

const ApiLive = HttpApiBuilder.api(TraderApi).pipe(
  Layer.provide([HealthApiLive, BacktestsApiLive, DeploymentsApiLive, PortfolioApiLive])
)

type Clients = RegistryClient | DataHubClient

export interface TraderParts<E, R> {
  /** Where strategy code runs: the sandbox in production, in-process in tests. */
  readonly executor: Layer.Layer<BacktestExecutor, E, R>
  /** Default: the Registry's code API. */
  readonly strategies?: Layer.Layer<StrategyCatalog, never, Clients>
  /** Default: the Registry's mappings. */
  readonly mappings?: Layer.Layer<SymbolMappings, never, Clients>
  /** Default: DataHub's bars as binary columns (`GET /bars/columns`). */
  readonly bars?: Layer.Layer<BarsFeed, never, Clients | ServiceConfig>
  readonly runner?: RunnerOptions
  /** Where deployments' strategies run: the sandbox in production, in-process in tests. Default: nowhere (starting fails). */
  readonly sessions?: Layer.Layer<StrategySession, E>
  /** Default: DataHub's `/live` over the web-standard WebSocket. */
  readonly liveBars?: Layer.Layer<LiveBars, never, Clients | ServiceConfig>
  /** Where broker accounts' code runs: the sandbox in production. Default: nowhere (a broker account cannot be opened). */
  readonly brokers?: Layer.Layer<BrokerHost, E, ServiceConfig | DatabaseUrl>
}

const noBrokers = Layer.succeed(BrokerHost, {
  open: (broker) =>
    Effect.fail(
      new BrokerRejected({
        broker,
        reason: "unknownBroker",
        message: `this Trader runs no broker code, so broker ${broker} cannot be opened`
      })
    )
})

/** Strategy code is not trusted: without a sandbox to run it in, a deployment that starts fails saying so. */
const noSessions = Layer.succeed(StrategySession, {
  open: (code) =>
    Effect.fail(
      new StrategyFailed({
        message: `strategy ${code.name} version ${code.version} cannot run live: this Trader has no sandbox for live strategies`
      })
    )
})

/** Trader with the given parts; the run manager is exposed too, for tests that wait on it. */
export const appLayer = <E, R>(parts: TraderParts<E, R>) =>
  HttpService.layer(TraderApi, ApiLive).pipe(
    Layer.provideMerge(BacktestRunner.layer(parts.runner ?? defaultRunnerOptions)),
    Layer.provideMerge(DeploymentRunner.layer),
    Layer.provide(PortfolioView.layer),
    Layer.provide(BacktestPlanner.layer),
    Layer.provide(
      Layer.mergeAll(
        parts.strategies ?? RegistryStrategyCatalog.layer,
        parts.mappings ?? SymbolMappings.registry,
        parts.bars ?? ColumnarBarsFeed.layer,
        parts.liveBars ?? WebSocketLiveBars.layer.pipe(Layer.provide(Socket.layerWebSocketConstructorGlobal)),
        parts.sessions ?? noSessions,
        parts.brokers ?? noBrokers
      )
    ),
    Layer.provide(Layer.mergeAll(RegistryClient.layer, DataHubClient.layer)),
    Layer.provide(parts.executor),
    Layer.provide(Layer.mergeAll(BacktestsRepo.layer, DeploymentsRepo.layer)),
    Layer.provide(Health.layer("trader")),
    Layer.provideMerge(SchemaState.layer(traderMigrations, { schema: TRADER_SCHEMA }))
  )

/**
 * Trader as it runs in production: strategy code in the sandbox, with no network at all; the
 * live feed over the given WebSocket constructor and a backtest's bars over the given HTTP client
 * (main.ts gives Node's; fetch when none is given).
 */
export const traderLive = (
  webSocket: Layer.Layer<Socket.WebSocketConstructor>,
  httpClient?: Layer.Layer<HttpClient.HttpClient>
) =>
  appLayer({
    executor: SandboxedBacktestExecutor.layer(),
    ...(httpClient === undefined
      ? {}
      : { bars: ColumnarBarsFeed.layerWithClient.pipe(Layer.provide(httpClient)) }),
    sessions: SandboxedStrategySession.layer(),
    brokers: SandboxedBrokerHost.live(),
    liveBars: WebSocketLiveBars.layer.pipe(Layer.provide(webSocket))
  })

export const TraderLive = traderLive(Socket.layerWebSocketConstructorGlobal)
