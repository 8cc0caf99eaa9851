import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { BodyPolicy } from "./BodyPolicy"

export const DatabaseBackend = Schema.Literal("timescaledb", "postgresql", "unknown")

/**
 * How DataHub isolates sandboxed provider code: its own network and PID namespaces, or (where
 * Linux does not allow them) Node's permission model alone, with `problem` saying why.
 */
export const SandboxIsolationReport = Schema.Struct({
  network: Schema.Literal("namespace", "permission-model-only"),
  pid: Schema.Literal("namespace", "shared"),
  problem: Schema.optional(Schema.String)
})

/** A part of the service besides the database that can fail on its own (e.g. DataHub's bundler). */
export const HealthComponent = Schema.Struct({
  name: Schema.String,
  status: Schema.Literal("up", "down"),
  /** What happened to it (deaths, restarts), or null when nothing did. */
  detail: Schema.NullOr(Schema.String)
})
export type HealthComponent = typeof HealthComponent.Type

/** A provider that came to this runner or left it, and when (epoch ms). */
export const ClusterHandoff = Schema.Struct({
  provider: Schema.String,
  kind: Schema.Literal("gained", "lost"),
  at: Schema.Number,
  /**
   * Gained only: how long the provider had no owner before this runner took it (ms), from when
   * its previous owner let it go or, after a crash, sent its last heartbeat. Null when there was
   * no previous owner or it is not known (yet).
   */
  unownedMs: Schema.optionalWith(Schema.NullOr(Schema.Number), { default: () => null })
})

/** A runner of the cluster, as its shared tables say, and the providers it owns. */
export const ClusterRunnerReport = Schema.Struct({
  runner: Schema.String,
  /** Its last heartbeat (epoch ms); null for a single runner, which keeps none in the database. */
  lastHeartbeat: Schema.NullOr(Schema.Number),
  providers: Schema.Array(Schema.String)
})

/** DataHub's part in the cluster: which runner answers and which providers it collects. */
export const ClusterReport = Schema.Struct({
  /** `host:port` of the runner socket, or `single` when DataHub runs alone. */
  runner: Schema.String,
  mode: Schema.Literal("single", "cluster"),
  /** Providers whose subscriptions and live connections this runner owns now. */
  providers: Schema.Array(Schema.String),
  handoffs: Schema.Struct({
    gained: Schema.Int,
    lost: Schema.Int,
    /** The newest few, newest last. */
    recent: Schema.Array(ClusterHandoff)
  }),
  /** Every runner the cluster knows and what it owns (empty when the database does not answer). */
  runners: Schema.optionalWith(Schema.Array(ClusterRunnerReport), { default: () => [] })
})

export class HealthReport extends Schema.Class<HealthReport>("HealthReport")({
  service: Schema.Literal("registry", "datahub", "trader"),
  status: Schema.Literal("ok", "unavailable"),
  database: Schema.Struct({
    status: Schema.Literal("up", "down"),
    backend: DatabaseBackend,
    embedded: Schema.Boolean,
    latencyMs: Schema.NullOr(Schema.Number),
    error: Schema.NullOr(Schema.String)
  }),
  migrations: Schema.Struct({
    /** Id of the newest applied migration, 0 before the first. */
    version: Schema.Int,
    /** Migrations this build knows but the database has not applied yet. */
    pending: Schema.Int
  }),
  uptimeSeconds: Schema.Number,
  /** DataHub only. */
  sandbox: Schema.optional(SandboxIsolationReport),
  /** The service's own components; absent where it has none. */
  components: Schema.optional(Schema.Array(HealthComponent)),
  /** DataHub only. */
  cluster: Schema.optional(ClusterReport)
}) {}

/** 503: the body still carries the whole report, so callers see what is down. */
export class Unhealthy extends Schema.TaggedError<Unhealthy>()(
  "Unhealthy",
  { message: Schema.String, report: HealthReport },
  HttpApiSchema.annotations({ status: 503 })
) {}

export class HealthGroup extends HttpApiGroup.make("health")
  .add(
    HttpApiEndpoint.get("health", "/health")
      .addSuccess(HealthReport)
      .addError(Unhealthy)
      .annotate(OpenApi.Summary, "Service and database health")
  )
  .add(
    HttpApiEndpoint.get("metrics", "/metrics")
      .addSuccess(HttpApiSchema.Text({ contentType: "text/plain; version=0.0.4" }))
      .annotate(OpenApi.Summary, "Prometheus metrics")
  )
  .middleware(BodyPolicy)
  .annotate(OpenApi.Description, "Liveness and readiness") {}
