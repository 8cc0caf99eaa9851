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
import type { ClusterHandoff, ClusterReport, ClusterRunnerReport } from "@quasar/domain"
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
  SubscriptionRef,
  type Types
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

/** A handoff as `/health` shows it; `unownedMs` is filled in once the owner is recorded. */
type Handoff = Types.Mutable<typeof ClusterHandoff.Type>

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
  const recent: Array<Handoff> = []
  const layer = shardingLayer(config, embedded)
  const mode = Option.isNone(config.address) || embedded ? "single" : "cluster"

  const handoff = (provider: string, kind: "gained" | "lost") =>
    Effect.gen(function* () {
      const at = yield* Clock.currentTimeMillis
      counts[kind]++
      const entry: Handoff = { provider, kind, at, unownedMs: null }
      recent.push(entry)
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
      return entry
    })

  /**
   * How long the provider had no owner, read from its previous row in the same statement that
   * takes it over: since its release or, when the previous runner died holding it, since that
   * runner's last heartbeat (the cluster's own `cluster_runners`, only there with a cluster).
   */
  const sinceCrash =
    mode === "cluster"
      ? `WHEN o.runner <> $2 THEN (SELECT extract(epoch FROM now()::timestamp - r.last_heartbeat)
           FROM datahub.cluster_runners r WHERE r.address = o.runner)`
      : ""
  const takeOver = (provider: string) =>
    sql
      .unsafe<{ unowned: number | null }>(
        `WITH previous AS (
           SELECT CASE WHEN o.released_at IS NOT NULL THEN extract(epoch FROM now() - o.released_at) ${sinceCrash} END AS unowned
           FROM datahub.provider_owners o WHERE o.provider = $1
         ), taken AS (
           INSERT INTO datahub.provider_owners (provider, runner) VALUES ($1, $2)
           ON CONFLICT (provider) DO UPDATE SET runner = EXCLUDED.runner, since = now(), released_at = NULL
         )
         SELECT (SELECT unowned FROM previous)::float8 AS unowned`,
        [provider, config.runner]
      )
      .pipe(Effect.map((rows) => rows[0]?.unowned ?? null))

  /**
   * Tells the other runners (and the API) who owns `provider`, in the background, and notes how
   * long it had no owner on the handoff, in the log and in `quasar_cluster_unowned_seconds`.
   */
  const recordOwner = (provider: string, entry: Handoff) =>
    schema.ready.pipe(
      Effect.zipRight(takeOver(provider)),
      Effect.retry(RECORD_RETRY),
      Effect.tap((unowned) =>
        unowned === null
          ? Effect.void
          : Effect.gen(function* () {
              entry.unownedMs = Math.max(0, Math.round(unowned * 1000))
              yield* Metric.update(
                Metric.tagged(Metrics.unownedSeconds, "provider", provider),
                Math.max(0, unowned)
              )
              yield* Effect.logInfo("provider had no owner before this runner took it").pipe(
                Effect.annotateLogs({ provider, runner: config.runner, unownedMs: entry.unownedMs })
              )
            })
      ),
      Effect.ignore,
      Effect.forkIn(lifetime)
    )
  /**
   * Only this runner's own row: the next owner may have written its own already. In the
   * background: the cluster stops a runner's singletons one after another, and a database that
   * does not answer (the reason they stop, often) must not hold up the next one.
   */
  const forgetOwner = (provider: string) =>
    sql`UPDATE datahub.provider_owners SET released_at = now()
        WHERE provider = ${provider} AND runner = ${config.runner} AND released_at IS NULL`.pipe(
      Effect.timeout("5 seconds"),
      Effect.ignore,
      Effect.forkIn(lifetime),
      Effect.asVoid
    )

  /** The singleton's run: owned from its start until it is interrupted. */
  const ownership = (provider: string) =>
    Effect.acquireRelease(
      Effect.flatMap(handoff(provider, "gained"), (entry) => recordOwner(provider, entry)),
      () => Effect.zipRight(handoff(provider, "lost"), forgetOwner(provider))
    )

  /** The cluster's runners and what each owns; a single runner answers for itself alone. */
  const runners: Effect.Effect<ReadonlyArray<typeof ClusterRunnerReport.Type>> =
    mode === "single"
      ? Effect.map(SubscriptionRef.get(owned), (set) => [
          { runner: config.runner, lastHeartbeat: null, providers: [...set].sort() }
        ])
      : sql<{ runner: string; lastHeartbeat: number; providers: Array<string> }>`
          SELECT r.address AS runner,
            (extract(epoch FROM r.last_heartbeat AT TIME ZONE current_setting('TimeZone')) * 1000)::float8 AS "lastHeartbeat",
            coalesce(array_agg(o.provider ORDER BY o.provider) FILTER (WHERE o.provider IS NOT NULL), '{}') AS providers
          FROM datahub.cluster_runners r
          LEFT JOIN datahub.provider_owners o ON o.runner = r.address AND o.released_at IS NULL
          GROUP BY r.address, r.last_heartbeat ORDER BY r.address`.pipe(
          Effect.timeout("2 seconds"),
          Effect.orElseSucceed(() => [])
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
      SELECT provider, runner FROM datahub.provider_owners WHERE released_at IS NULL ORDER BY provider`,
    report: Effect.map(Effect.all([SubscriptionRef.get(owned), runners]), ([set, all]) => ({
      runner: config.runner,
      mode,
      providers: [...set].sort(),
      handoffs: { ...counts, recent: recent.map((h) => ({ ...h })) },
      runners: all
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
