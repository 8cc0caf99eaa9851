/** Everything Trader runs, given an HTTP server, a database and its configuration. */
import { HttpApiBuilder } from "@effect/platform"
import { TraderApi } from "@quasar/domain"
import { TRADER_SCHEMA, traderMigrations } from "@quasar/migrations/trader"
import { Health, HttpService, SchemaState } from "@quasar/server"
import { Layer } from "effect"
import { BacktestsApiLive } from "./BacktestsApi"
import type { BacktestExecutor } from "./backtest/BacktestExecutor"
import { BacktestPlanner } from "./backtest/BacktestPlanner"
import { BacktestRunner, defaultRunnerOptions, type RunnerOptions } from "./backtest/BacktestRunner"
import { BacktestsRepo } from "./backtest/BacktestsRepo"
import type { BarsFeed } from "./bars/BarsFeed"
import * as ColumnarBarsFeed from "./bars/ColumnarBarsFeed"
import { DataHubClient } from "./clients/DataHubClient"
import { RegistryClient } from "./clients/RegistryClient"
import { HealthApiLive } from "./HealthApi"
import { SandboxedBacktestExecutor } from "./sandbox/SandboxedBacktestExecutor"
import * as RegistryStrategyCatalog from "./strategies/RegistryStrategyCatalog"
import type { StrategyCatalog } from "./strategies/StrategyCatalog"
import { SymbolMappings } from "./strategies/SymbolMappings"

const ApiLive = HttpApiBuilder.api(TraderApi).pipe(Layer.provide([HealthApiLive, BacktestsApiLive]))

type Clients = RegistryClient | DataHubClient

export interface TraderParts<E, R> {
  /** Where strategy code runs: the sandbox in production, in-process in tests. */
  readonly executor: Layer.Layer<BacktestExecutor, E, R>
  /** Default: the Registry's code API. */
  readonly strategies?: Layer.Layer<StrategyCatalog, never, Clients>
  /** Default: the Registry's mappings. */
  readonly mappings?: Layer.Layer<SymbolMappings, never, Clients>
  /** Default: DataHub's bars as binary columns (`GET /bars/columns`). */
  readonly bars?: Layer.Layer<BarsFeed, never, Clients>
  readonly runner?: RunnerOptions
}

/** Trader with the given parts; the run manager is exposed too, for tests that wait on it. */
export const appLayer = <E, R>(parts: TraderParts<E, R>) =>
  HttpService.layer(TraderApi, ApiLive).pipe(
    Layer.provideMerge(BacktestRunner.layer(parts.runner ?? defaultRunnerOptions)),
    Layer.provide(BacktestPlanner.layer),
    Layer.provide(
      Layer.mergeAll(
        parts.strategies ?? RegistryStrategyCatalog.layer,
        parts.mappings ?? SymbolMappings.registry,
        parts.bars ?? ColumnarBarsFeed.layer
      )
    ),
    Layer.provide(Layer.mergeAll(RegistryClient.layer, DataHubClient.layer)),
    Layer.provide(parts.executor),
    Layer.provide(BacktestsRepo.layer),
    Layer.provide(Health.layer("trader")),
    Layer.provideMerge(SchemaState.layer(traderMigrations, { schema: TRADER_SCHEMA }))
  )

/** Trader as it runs in production: strategy code in the sandbox, with no network at all. */
export const TraderLive = appLayer({ executor: SandboxedBacktestExecutor.layer() })
