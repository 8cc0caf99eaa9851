/**
 * Which providers this runner collects: each provider is one cluster Singleton,
 * `datahub/provider/<name>`, registered on every runner as soon as the runner sees a subscription
 * of it; the cluster runs it on exactly one runner (the one holding its shard). Its run marks the
 * provider owned here and, when interrupted (the shard moved, the runner stops), unmarks it. The
 * Scheduler and the LiveSupervisor start work only for owned providers and stop it when ownership
 * leaves.
 *
 * Why the provider is the sharding key: a provider's limits are in-process (ProviderLimits' semaphore
 * of parallel runs, the provider context's token bucket of requests). With every subscription and
 * live connection of a provider on one runner, those limits hold for the whole cluster with no
 * shared limiter; sharding by subscription would let three runners each spend the full budget.
 * The cost is granularity: one provider's load cannot be spread over runners.
 *
 * The cluster is started in the background, once the schema is migrated (its SQL storage creates
 * tables in `datahub`): DataHub serves its API while the database is down, as it always did, and
 * owns nothing until the runner has joined.
 */
import * as EntityId from "@effect/cluster/EntityId"
import type { Sharding } from "@effect/cluster/Sharding"
import * as ShardingTag from "@effect/cluster/Sharding"
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import type { ClusterHandoff, ClusterReport } from "@quasar/domain"
import { DatabaseUrl, Metrics, SchemaState } from "@quasar/server"
import {
  Cause,
  Clock,
  Context,
  Deferred,
  Effect,
  ExecutionStrategy,
  Exit,
  Layer,
  Metric,
  MetricLabel,
  Option,
  Schedule,
  Scope,
  Stream,
  SubscriptionRef
} from "effect"
import { ClusterConfig } from "./ClusterConfig"
import { shardingLayer } from "./ClusterRunner"

export interface ProviderOwnershipService {
  /** This runner's name (`host:port`, or `single`). */
  readonly runner: string
  /** Makes `provider` one of the singletons this runner may run (idempotent, cheap). */
  readonly register: (provider: string) => Effect.Effect<void>
  /** The providers this runner owns now. */
  readonly owned: Effect.Effect<ReadonlySet<string>>
  /** The owned set, now and after every change. */
  readonly changes: Stream.Stream<ReadonlySet<string>>
  /** Which runner owns each provider, across the cluster (`datahub.provider_owners`). */
  readonly owners: Effect.Effect<
    ReadonlyArray<{ readonly provider: string; readonly runner: string }>,
    SqlError
  >
  readonly report: Effect.Effect<typeof ClusterReport.Type>
}

export const singletonName = (provider: string) => `datahub/provider/${provider}`

/** Handoffs kept for `/health`. */
const RECENT_HANDOFFS = 20
const RETRY_JOIN = Schedule.spaced("1 second")
const OWNERSHIP_WAIT = "1 second"
/** Recording the owner is for display: a database that does not answer is not waited for long. */
const RECORD_RETRY = Schedule.spaced("1 second").pipe(Schedule.upTo("30 seconds"))

const make = Effect.gen(function* () {
  const config = yield* ClusterConfig
  const schema = yield* SchemaState.SchemaState
  const { embedded } = yield* DatabaseUrl
  const sql = yield* SqlClient.SqlClient
  const lifetime = yield* Effect.scope
  const owned = yield* SubscriptionRef.make<ReadonlySet<string>>(new Set())
  const joined = yield* Deferred.make<Sharding["Type"]>()
  const lock = yield* Effect.makeSemaphore(1)
  const registered = new Set<string>()
  const counts = { gained: 0, lost: 0 }
  const recent: Array<typeof ClusterHandoff.Type> = []
  const layer = shardingLayer(config, embedded)
  const mode = Option.isNone(config.address) || embedded ? "single" : "cluster"

  const handoff = (provider: string, kind: "gained" | "lost") =>
    Effect.gen(function* () {
      const at = yield* Clock.currentTimeMillis
      counts[kind]++
      recent.push({ provider, kind, at })
      if (recent.length > RECENT_HANDOFFS) recent.shift()
      const next = yield* SubscriptionRef.updateAndGet(owned, (set) => {
        const next = new Set(set)
        if (kind === "gained") next.add(provider)
        else next.delete(provider)
        return next
      })
      yield* Metric.set(Metrics.providersOwned, next.size)
      yield* Metric.increment(
        Metric.taggedWithLabels(Metrics.providerHandoffs, [
          MetricLabel.make("kind", kind),
          MetricLabel.make("provider", provider)
        ])
      )
      if (mode === "cluster")
        yield* Effect.logInfo(kind === "gained" ? "provider owned here" : "provider left this runner").pipe(
          Effect.annotateLogs({ provider, runner: config.runner })
        )
    })

  /** Tells the other runners (and the API) who owns `provider`, in the background. */
  const recordOwner = (provider: string) =>
    schema.ready.pipe(
      Effect.zipRight(sql`INSERT INTO datahub.provider_owners (provider, runner) VALUES (${provider}, ${config.runner})
        ON CONFLICT (provider) DO UPDATE SET runner = EXCLUDED.runner, since = now()`),
      Effect.retry(RECORD_RETRY),
      Effect.ignore,
      Effect.forkIn(lifetime)
    )
  /** Only this runner's own row: the next owner may have written its own already. */
  const forgetOwner = (provider: string) =>
    sql`DELETE FROM datahub.provider_owners WHERE provider = ${provider} AND runner = ${config.runner}`.pipe(
      Effect.timeout("2 seconds"),
      Effect.ignore
    )

  /** The singleton's run: owned from its start until it is interrupted. */
  const ownership = (provider: string) =>
    Effect.acquireRelease(Effect.zipRight(handoff(provider, "gained"), recordOwner(provider)), () =>
      Effect.zipRight(handoff(provider, "lost"), forgetOwner(provider))
    )

  /**
   * Registers the provider's singleton. When its shard is this runner's, the singleton starts at
   * once; waiting (briefly) for it to mark the provider lets the caller's first look see it owned.
   */
  const registerOn = (sharding: Sharding["Type"], provider: string) =>
    Effect.gen(function* () {
      const name = singletonName(provider)
      yield* sharding.registerSingleton(name, ownership(provider)).pipe(Scope.extend(lifetime))
      if (sharding.hasShardId(sharding.getShardId(EntityId.make(name), "default")))
        yield* owned.changes.pipe(
          Stream.takeUntil((set) => set.has(provider)),
          Stream.runDrain,
          Effect.timeoutOption(OWNERSHIP_WAIT)
        )
    })

  const register = (provider: string) =>
    Effect.suspend(() =>
      registered.has(provider)
        ? Effect.void
        : lock.withPermits(1)(
            Effect.gen(function* () {
              if (registered.has(provider)) return
              registered.add(provider)
              const sharding = yield* Deferred.poll(joined)
              if (Option.isSome(sharding)) yield* registerOn(yield* sharding.value, provider)
            })
          )
    )

  /** One attempt to join, in a scope of its own that is closed again if the attempt fails. */
  const join = Effect.gen(function* () {
    const scope = yield* Scope.fork(lifetime, ExecutionStrategy.sequential)
    return yield* Layer.buildWithScope(layer, scope).pipe(
      Effect.map((context) => Context.get(context, ShardingTag.Sharding)),
      Effect.onError((cause) => Scope.close(scope, Exit.failCause(cause)))
    )
  })

  yield* Effect.gen(function* () {
    // The SQL storage creates its tables in `datahub`, which the migrations create.
    if (mode === "cluster") yield* schema.ready
    // The storages die (rather than fail) on a refused statement, e.g. two runners creating the
    // cluster's tables at the same moment, so every cause but interruption is worth another try.
    const sharding = yield* join.pipe(
      Effect.catchAllCause((cause) =>
        Cause.isInterruptedOnly(cause)
          ? Effect.interrupt
          : Effect.zipRight(
              Effect.logWarning("could not join the cluster; trying again", cause),
              Effect.fail(cause)
            )
      ),
      Effect.retry(RETRY_JOIN)
    )
    yield* lock.withPermits(1)(
      Effect.gen(function* () {
        yield* Deferred.succeed(joined, sharding)
        for (const provider of registered) yield* registerOn(sharding, provider)
      })
    )
    if (mode === "cluster")
      yield* Effect.logInfo("joined the cluster").pipe(Effect.annotateLogs({ runner: config.runner }))
  }).pipe(Effect.forkScoped)

  return {
    runner: config.runner,
    register,
    owned: SubscriptionRef.get(owned),
    changes: owned.changes,
    owners: sql<{ provider: string; runner: string }>`
      SELECT provider, runner FROM datahub.provider_owners ORDER BY provider`,
    report: Effect.map(SubscriptionRef.get(owned), (set) => ({
      runner: config.runner,
      mode,
      providers: [...set].sort(),
      handoffs: { ...counts, recent: [...recent] }
    }))
  } satisfies ProviderOwnershipService
})

export class ProviderOwnership extends Context.Tag("@quasar/datahub/cluster/ProviderOwnership")<
  ProviderOwnership,
  ProviderOwnershipService
>() {
  /** Needs SchemaState, DatabaseUrl and the SQL client; ClusterConfig is a reference (single runner by default). */
  static readonly layer = Layer.scoped(ProviderOwnership, make)
}
