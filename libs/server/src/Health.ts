/** The health report both services answer on `GET /health`. */

import { SqlClient } from "@effect/sql"
import {
  type ClusterReport,
  type HealthComponent,
  HealthReport,
  type SandboxIsolationReport,
  Unhealthy
} from "@quasar/domain"
import { Clock, Context, Effect, Layer } from "effect"
import { DatabaseUrl } from "./DatabaseUrl"
import { SchemaState } from "./SchemaState"

export class Health extends Context.Tag("@quasar/server/Health")<
  Health,
  {
    readonly report: Effect.Effect<HealthReport>
    /** The report as an HTTP answer: 200 when everything is up, else 503 with the same body. */
    readonly respond: Effect.Effect<HealthReport, Unhealthy>
  }
>() {}

/**
 * The report for `service`. `sandbox`: how the service isolates sandboxed code, for services that
 * run any (DataHub). Each of `components` is asked on every report, and one that is down makes
 * the service unavailable. `cluster`: the runner's part in the cluster (DataHub), asked on every report.
 */
export const layer = <R = never, RC = never>(
  service: HealthReport["service"],
  options: {
    readonly sandbox?: Effect.Effect<typeof SandboxIsolationReport.Type, never, R>
    readonly components?: ReadonlyArray<Effect.Effect<HealthComponent>>
    readonly cluster?: Effect.Effect<typeof ClusterReport.Type, never, RC>
  } = {}
) =>
  Layer.effect(
    Health,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const schema = yield* SchemaState
      const { embedded } = yield* DatabaseUrl
      const startedAt = yield* Clock.currentTimeMillis
      const isolation = options.sandbox === undefined ? undefined : yield* options.sandbox
      const components = options.components ?? []
      const context = yield* Effect.context<RC>()
      const cluster = options.cluster === undefined ? undefined : Effect.provide(options.cluster, context)

      const report = Effect.gen(function* () {
        const t0 = yield* Clock.currentTimeMillis
        // Generous: on the embedded database the ping waits its turn for the one session. Once it
        // times out, the report does not wait for the stuck connection to be let go.
        const ping = yield* sql`SELECT 1`.pipe(Effect.disconnect, Effect.timeout("5 seconds"), Effect.either)
        const t1 = yield* Clock.currentTimeMillis
        const migrated = yield* schema.current
        const up = ping._tag === "Right"
        const pending = migrated ? 0 : schema.known
        const parts = yield* Effect.all(components)
        const clusterReport = cluster === undefined ? undefined : yield* cluster
        return new HealthReport({
          service,
          status: up && pending === 0 && parts.every((c) => c.status === "up") ? "ok" : "unavailable",
          database: {
            status: up ? "up" : "down",
            backend: migrated ? (migrated.features.timescale ? "timescaledb" : "postgresql") : "unknown",
            embedded,
            latencyMs: up ? t1 - t0 : null,
            error: ping._tag === "Left" ? describe(ping.left) : null
          },
          migrations: { version: migrated?.version ?? 0, pending },
          uptimeSeconds: Math.round((t1 - startedAt) / 1000),
          ...(isolation === undefined ? {} : { sandbox: isolation }),
          ...(parts.length > 0 ? { components: parts } : {}),
          ...(clusterReport === undefined ? {} : { cluster: clusterReport })
        })
      }).pipe(Effect.withSpan("health.report"))

      const respond = Effect.flatMap(report, (r) => {
        const down = r.components?.find((c) => c.status === "down")
        return r.status === "ok"
          ? Effect.succeed(r)
          : Effect.fail(
              new Unhealthy({
                message:
                  r.database.status === "down"
                    ? `database unreachable: ${r.database.error}; the service recovers by itself when it returns`
                    : down
                      ? `${down.name} is down: ${down.detail ?? "no detail"}`
                      : `database schema not ready (${r.migrations.pending} migrations pending)`,
                report: r
              })
            )
      })
      return { report, respond }
    })
  )

/** The most specific message in an error chain (SqlError wraps the driver's error as `cause`). */
const describe = (e: unknown): string => {
  const messages: Array<string> = []
  for (let cur: unknown = e; cur && typeof cur === "object" && messages.length < 3; ) {
    const { message, cause } = cur as { message?: unknown; cause?: unknown }
    if (typeof message === "string" && message !== "") messages.push(message)
    cur = cause
  }
  return messages.join(": ") || String(e)
}
