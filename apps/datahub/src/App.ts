/** Everything the datahub runs, given an HTTP server and a database. */
import { HttpApiBuilder } from "@effect/platform"
import { DataHubApi, LIVE_PATH } from "@quasar/domain"
import { DATAHUB_SCHEMA, datahubMigrations } from "@quasar/migrations/datahub"
import { SandboxLimits, type SandboxLimitValues } from "@quasar/sandbox"
import { bundlerComponent, SandboxAllowHosts, SandboxNetwork, SandboxQuota } from "@quasar/sandbox/node"
import { ChangeFeed, Health, HttpService, SchemaState } from "@quasar/server"
import { type ConfigError, Effect, Layer } from "effect"
import { BarsApiLive } from "./BarsApi"
import { CodeUsageApiLive } from "./CodeUsageApi"
import { CollectionApiLive } from "./CollectionApi"
import { RegistryCatalog } from "./catalog/RegistryCatalog"
import { ClusterConfig } from "./cluster/ClusterConfig"
import { ProviderOwnership } from "./cluster/ProviderOwnership"
import { BarSink } from "./collect/BarSink"
import type { BarSource } from "./collect/BarSource"
import { CollectionLive } from "./collect/Collection"
import { CollectionHistoryRepo } from "./collect/CollectionHistoryRepo"
import { PoolBarSource } from "./collect/PoolBarSource"
import { HealthApiLive } from "./HealthApi"
import { LiveApiLive } from "./LiveApi"
import { LiveFeedRoute } from "./live/LiveFeedServer"
import { LiveLive } from "./live/LiveLive"
import { LiveSource } from "./live/LiveSource"
import { SandboxApiLive } from "./SandboxApi"
import { LiveDemandApiLive, SubscriptionsApiLive } from "./SubscriptionsApi"
import { ProviderPool } from "./sandbox/ProviderPool"
import { providerWorkspace } from "./sandbox/ProviderSandbox"
import { Validator } from "./sandbox/Validator"
import { BarWriter } from "./store/BarWriter"

const ApiLive = HttpApiBuilder.api(DataHubApi).pipe(
  Layer.provide([
    HealthApiLive,
    SandboxApiLive,
    CodeUsageApiLive,
    SubscriptionsApiLive,
    LiveDemandApiLive,
    BarsApiLive,
    CollectionApiLive
  ]),
  Layer.provide(CollectionHistoryRepo.layer),
  Layer.provide([LiveApiLive, LiveFeedRoute])
)

/**
 * Running uploaded code: the workspace (the runner is bundled at start), validation, the pool,
 * and the children's network (isolation found at start, egress through DataHub).
 */
const SandboxLive = <E, R>(
  limits: Partial<SandboxLimitValues>,
  allowHosts: Layer.Layer<SandboxAllowHosts, E, R>
) =>
  Layer.mergeAll(Validator.layer, ProviderPool.layer).pipe(
    Layer.provideMerge(providerWorkspace),
    Layer.provideMerge(SandboxQuota.layer()),
    Layer.provideMerge(SandboxLimits.layer(limits)),
    Layer.provideMerge(SandboxNetwork.layer("DataHub")),
    Layer.provide(allowHosts)
  )

/** Collected bars go through the one writer (queue, batches, commit before `write` returns). */
const BarSinkLive = Layer.effect(
  BarSink,
  Effect.map(BarWriter, (writer) => ({ write: writer.write, flush: writer.flush }))
).pipe(Layer.provideMerge(BarWriter.layer))

/** The bar and live sources of production: the sandboxes. */
const PoolSources = Layer.merge(PoolBarSource, LiveSource.pool)

const build = <S, RS, E, R>(
  sandboxLimits: Partial<SandboxLimitValues>,
  sources: Layer.Layer<S, never, RS>,
  allowHosts: Layer.Layer<SandboxAllowHosts, E | ConfigError.ConfigError, R>
) =>
  HttpService.layer(DataHubApi, ApiLive, { extraRoutes: [{ method: "GET", template: LIVE_PATH }] }).pipe(
    Layer.provide(
      Health.layer("datahub", {
        sandbox: SandboxNetwork.healthReport,
        components: [bundlerComponent],
        cluster: Effect.flatMap(ProviderOwnership, (ownership) => ownership.report)
      })
    ),
    Layer.provideMerge(CollectionLive),
    Layer.provideMerge(LiveLive),
    Layer.provideMerge(ProviderOwnership.layer),
    Layer.provideMerge(sources),
    Layer.provideMerge(BarSinkLive),
    Layer.provideMerge(SandboxLive<E | ConfigError.ConfigError, R>(sandboxLimits, allowHosts)),
    Layer.provideMerge(ChangeFeed.layer(DATAHUB_SCHEMA)),
    Layer.provideMerge(SchemaState.layer(datahubMigrations, { schema: DATAHUB_SCHEMA }))
  )

/**
 * The app with other sandbox limits (tests shorten the timeouts), requiring the RegistryCatalog
 * (over HTTP in production, `testing/MemoryCatalog` where a test runs DataHub alone); with `"external"` sources the
 * layer requires a BarSource and a LiveSource (tests run providers in-process with
 * `BarSource.inProcess`/`LiveSource.inProcess`), by default it runs them in the sandboxes; for
 * tests whose sandboxed providers reach fakes on 127.0.0.1 an allowlist naming them (by default
 * QUASAR_SANDBOX_ALLOW_HOSTS).
 */
export function appLayer<E = never, R = never>(
  sandboxLimits?: Partial<SandboxLimitValues>,
  sources?: "pool",
  allowHosts?: Layer.Layer<SandboxAllowHosts, E, R>
): ReturnType<typeof build<BarSource | LiveSource, ProviderPool, E, R>>
export function appLayer<E = never, R = never>(
  sandboxLimits: Partial<SandboxLimitValues>,
  sources: "external",
  allowHosts?: Layer.Layer<SandboxAllowHosts, E, R>
): ReturnType<typeof build<never, never, E, R>>
export function appLayer<E = never, R = never>(
  sandboxLimits: Partial<SandboxLimitValues> = {},
  sources: "pool" | "external" = "pool",
  allowHosts?: Layer.Layer<SandboxAllowHosts, E, R>
) {
  const hosts: Layer.Layer<SandboxAllowHosts, E | ConfigError.ConfigError, R> =
    allowHosts ?? SandboxAllowHosts.fromEnv
  return sources === "pool"
    ? build(sandboxLimits, PoolSources, hosts)
    : build(sandboxLimits, Layer.empty, hosts)
}

/**
 * DataHub as it runs in production: every service wired, providers in their sandboxes, the
 * Registry's catalogue read over HTTP, the cluster runner configured from the environment.
 */
export const DataHubLive = appLayer().pipe(Layer.provide([RegistryCatalog.layer, ClusterConfig.fromEnv]))
