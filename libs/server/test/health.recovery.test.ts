/**
 * A service whose database goes away and comes back, played with a `TcpProxy` between the
 * service and a fresh test database: health answers 503 while it is gone and 200 again once it
 * returns, without a restart; a service started while the database is unreachable comes up,
 * answers 503, and migrates by itself once the database is reachable.
 *
 * The service is composed from the same pieces as the apps (HttpService, Health, SchemaState,
 * ChangeFeed with DataHub's migrations) around the shared health endpoint, because `libs/*` never
 * import `apps/*`; apps/datahub/test covers the DataHub's own wiring.
 */
import { HttpApi, HttpApiBuilder, HttpClient, type HttpClientResponse } from "@effect/platform"
import { expect, layer } from "@effect/vitest"
import { HealthGroup, HealthReport, Unhealthy } from "@quasar/domain"
import { DATAHUB_SCHEMA, datahubMigrations } from "@quasar/migrations/datahub"
import { ChangeFeed, DatabaseUrl, Health, HttpService, Metrics, SchemaState } from "@quasar/server"
import { ProxiedDatabase, TestService } from "@quasar/server/testing"
import { Duration, Effect, Layer, Logger, Redacted, Schedule, Schema } from "effect"

const latest = Math.max(...datahubMigrations.map((m) => m.id))

class TestApi extends HttpApi.make("test").add(HealthGroup) {}

const AppLive = HttpService.layer(
  TestApi,
  HttpApiBuilder.api(TestApi).pipe(
    Layer.provide(
      HttpApiBuilder.group(TestApi, "health", (handlers) =>
        Effect.map(Health.Health, (health) =>
          handlers.handle("health", () => health.respond).handle("metrics", () => Metrics.prometheusText)
        )
      )
    )
  )
).pipe(
  Layer.provide(Health.layer("datahub")),
  Layer.provideMerge(ChangeFeed.layer(DATAHUB_SCHEMA)),
  Layer.provideMerge(SchemaState.layer(datahubMigrations, { schema: DATAHUB_SCHEMA }))
)

/** A fresh database reached through a proxy the test can cut and restore. */
const proxied = (startCut: boolean) => {
  const { proxied: ProxiedLive, databaseUrl: DatabaseUrlLive } = ProxiedDatabase.layers({ startCut })
  // Layers are memoised by reference within one build: the proxy the service connects through
  // is the one the tests get.
  return TestService.layer(AppLive, DatabaseUrlLive).pipe(
    Layer.provideMerge(ProxiedLive),
    // The test services (and their silent logger) are left out so that the service's retries and
    // the tests' waits run on the real clock; keep the output as quiet as the other tests'.
    Layer.provide(Logger.remove(Logger.defaultLogger))
  )
}

/** One /health answer: the status, the raw JSON, and that JSON decoded as the API declares it. */
const health = Effect.flatMap(HttpClient.HttpClient, (http) =>
  http.get("/health").pipe(
    Effect.flatMap((res: HttpClientResponse.HttpClientResponse) =>
      Effect.flatMap(res.json, (body) =>
        Effect.map(Schema.decodeUnknown(Schema.Union(HealthReport, Unhealthy))(body), (decoded) => ({
          status: res.status,
          body,
          decoded
        }))
      )
    )
  )
)

/** Polls /health until it answers `status`; fails after `within`. */
const healthUntil = (status: number, within: Duration.DurationInput) =>
  health.pipe(
    Effect.filterOrFail(
      (r) => r.status === status,
      (r) => `health answered ${r.status}, waiting for ${status}`
    ),
    Effect.retry(Schedule.spaced("100 millis")),
    Effect.timeoutFail({
      duration: within,
      onTimeout: () => new Error(`/health did not answer ${status} within ${Duration.format(within)}`)
    })
  )

const elapsed = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const start = Date.now()
    const value = yield* self
    return { value, ms: Date.now() - start }
  })

layer(proxied(false), { timeout: 60_000, excludeTestServices: true })(
  "health when the database goes away",
  (it) => {
    it.effect("connects through the proxy", () =>
      Effect.gen(function* () {
        const { url } = yield* DatabaseUrl
        const { proxy } = yield* ProxiedDatabase.ProxiedDatabase
        expect(new URL(Redacted.value(url)).port).toBe(String(proxy.port))
      })
    )

    it.effect("answers 200, then 503 while the database is cut off, then 200 again without a restart", () =>
      Effect.gen(function* () {
        const { proxy } = yield* ProxiedDatabase.ProxiedDatabase
        yield* Effect.flatMap(SchemaState.SchemaState, (s) => s.ready)
        const up = yield* healthUntil(200, "5 seconds")
        expect(up.body).toMatchObject({
          status: "ok",
          database: { status: "up", error: null },
          migrations: { version: latest, pending: 0 }
        })

        yield* proxy.cut
        const down = yield* healthUntil(503, "5 seconds")
        expect(down.body).toMatchObject({
          _tag: "Unhealthy",
          message: expect.stringMatching(/database unreachable: .+/)
        })
        expect(down.decoded).toBeInstanceOf(Unhealthy)
        const report = down.decoded instanceof Unhealthy ? down.decoded.report : null
        expect(report).toMatchObject({
          status: "unavailable",
          database: { status: "down", latencyMs: null },
          // The schema was migrated before: only the connection is missing.
          migrations: { version: latest, pending: 0 }
        })
        expect(report?.database.error).toEqual(expect.any(String))
        expect(report?.database.error?.length).toBeGreaterThan(0)
        // It stays down while the database is unreachable.
        yield* Effect.sleep("500 millis")
        expect((yield* health).status).toBe(503)

        yield* proxy.restore
        const back = yield* elapsed(healthUntil(200, "5 seconds"))
        expect(back.ms).toBeLessThan(5_000)
        expect(back.value.body).toMatchObject({ status: "ok", database: { status: "up", error: null } })
      })
    )

    it.effect("survives repeated outages", () =>
      Effect.gen(function* () {
        const { proxy } = yield* ProxiedDatabase.ProxiedDatabase
        for (let i = 0; i < 3; i++) {
          yield* proxy.cut
          yield* healthUntil(503, "5 seconds")
          yield* proxy.restore
          yield* healthUntil(200, "5 seconds")
        }
      })
    )
  }
)

layer(proxied(true), { timeout: 60_000, excludeTestServices: true })(
  "a service started while the database is unreachable",
  (it) => {
    it.effect("comes up, answers 503, then migrates and answers 200 once the database returns", () =>
      Effect.gen(function* () {
        const { proxy, url } = yield* ProxiedDatabase.ProxiedDatabase
        const schema = yield* SchemaState.SchemaState
        // Give the migrator time to fail a few times.
        yield* Effect.sleep("1 second")
        expect(yield* schema.current).toBeNull()
        const down = yield* health
        expect(down.status).toBe(503)
        expect(down.body).toMatchObject({
          _tag: "Unhealthy",
          message: expect.stringMatching(/database unreachable/),
          report: {
            status: "unavailable",
            database: { status: "down", backend: "unknown", latencyMs: null },
            migrations: { version: 0, pending: datahubMigrations.length }
          }
        })

        yield* proxy.restore
        // The migrator retries with exponential backoff capped at 5 s (with jitter).
        const back = yield* elapsed(healthUntil(200, "10 seconds"))
        expect(back.ms).toBeLessThan(10_000)
        expect(back.value.body).toMatchObject({
          status: "ok",
          database: { status: "up", backend: expect.stringMatching(/^(postgresql|timescaledb)$/) },
          migrations: { version: latest, pending: 0 }
        })
        const result = yield* schema.ready
        expect(result.version).toBe(latest)
        expect(new URL(url).port).toBe(String(proxy.port))
      })
    )
  }
)
