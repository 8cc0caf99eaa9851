/** Everything the datahub runs, given an HTTP server and a database. */
import { HttpApiBuilder } from "@effect/platform"
import { DataHubApi, LIVE_PATH } from "@quasar/domain"
import { migrations } from "@quasar/migrations"
import { ChangeFeed, Health, HttpService, SchemaState } from "@quasar/server"
import { Effect, Layer } from "effect"
import { BarsApiLive } from "./BarsApi"
import { CollectionApiLive } from "./CollectionApi"
import { BarSink } from "./collect/BarSink"
import { CollectionLive } from "./collect/Collection"
import { CollectionHistoryRepo } from "./collect/CollectionHistoryRepo"
import { PoolBarSource } from "./collect/PoolBarSource"
import { HealthApiLive } from "./HealthApi"
import { LiveApiLive } from "./LiveApi"
import { LiveFeedRoute } from "./live/LiveFeedServer"
import { LiveLive } from "./live/LiveLayer"
import { LiveSource } from "./live/LiveSource"
import { SandboxApiLive } from "./SandboxApi"
import { SubscriptionsApiLive } from "./SubscriptionsApi"
import { bundlerComponent } from "./sandbox/esbuildService"
import { ProviderPool } from "./sandbox/ProviderPool"
import { SandboxLimits, type SandboxLimitValues } from "./sandbox/SandboxLimits"
import { SandboxQuota } from "./sandbox/SandboxQuota"
import { SandboxWorkspace } from "./sandbox/SandboxWorkspace"
import { Validator } from "./sandbox/Validator"
import { BarWriter } from "./store/BarWriter"

const ApiLive = HttpApiBuilder.api(DataHubApi).pipe(
  Layer.provide([HealthApiLive, SandboxApiLive, SubscriptionsApiLive, BarsApiLive, CollectionApiLive]),
  Layer.provide(CollectionHistoryRepo.layer),
  Layer.provide([LiveApiLive, LiveFeedRoute])
)

/** Running uploaded code: the workspace (the runner is bundled at start), validation, the pool. */
const SandboxLive = (limits: Partial<SandboxLimitValues>) =>
  Layer.mergeAll(Validator.layer, ProviderPool.layer).pipe(
    Layer.provideMerge(SandboxWorkspace.layer),
    Layer.provideMerge(SandboxQuota.layer()),
    Layer.provideMerge(SandboxLimits.layer(limits))
  )

/** Collected bars go through the one writer (queue, batches, commit before `write` returns). */
const BarSinkLive = Layer.effect(
  BarSink,
  Effect.map(BarWriter, (writer) => ({ write: writer.write }))
).pipe(Layer.provideMerge(BarWriter.layer))

/**
 * The app with other sandbox limits (tests shorten the timeouts) and, for tests that run
 * providers in-process, another bar source (`BarSource.inProcess`); by default the sandboxes.
 */
export const appLayer = (
  sandboxLimits: Partial<SandboxLimitValues> = {},
  barSource: "pool" | "external" = "pool"
) =>
  HttpService.layer(DataHubApi, ApiLive, { extraRoutes: [{ method: "GET", template: LIVE_PATH }] }).pipe(
    Layer.provide(Health.layer("datahub", [bundlerComponent])),
    Layer.provideMerge(CollectionLive),
    Layer.provideMerge(LiveLive),
    Layer.provideMerge(barSource === "pool" ? PoolBarSource : Layer.empty),
    Layer.provideMerge(barSource === "pool" ? LiveSource.pool : Layer.empty),
    Layer.provideMerge(BarSinkLive),
    Layer.provideMerge(SandboxLive(sandboxLimits)),
    Layer.provideMerge(ChangeFeed.layer),
    Layer.provideMerge(SchemaState.layer(migrations))
  )

export const AppLive = appLayer()
