import { HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { expect, layer } from "@effect/vitest"
import { DataHubApi } from "@quasar/domain"
import { datahubMigrations } from "@quasar/migrations/datahub"
import { SchemaState } from "@quasar/server"
import { ProxiedDatabase, TestService } from "@quasar/server/testing"
import { Effect, Layer, Logger, Schedule } from "effect"
import { DataHubAlone } from "../src/testing/DataHubAlone"

const latest = Math.max(...datahubMigrations.map((m) => m.id))

layer(TestService.layer(DataHubAlone), { timeout: 60_000 })("datahub service", (it) => {
  it.effect("answers /health with 200, the database status and the migration version", () =>
    Effect.gen(function* () {
      yield* Effect.flatMap(SchemaState.SchemaState, (s) => s.ready)
      const client = yield* HttpApiClient.make(DataHubApi)
      const health = yield* client.health.health()
      expect(health.service).toBe("datahub")
      expect(health.status).toBe("ok")
      expect(health.database.status).toBe("up")
      expect(health.database.error).toBeNull()
      expect(health.database.latencyMs).toEqual(expect.any(Number))
      expect(["postgresql", "timescaledb"]).toContain(health.database.backend)
      expect(health.migrations).toEqual({ version: latest, pending: 0 })
      // This machine (and CI) runs as root: sandbox children get their own namespaces.
      expect(health.sandbox).toEqual({ network: "namespace", pid: "namespace" })
    })
  )

  it.effect("serves the OpenAPI document and Swagger UI", () =>
    Effect.gen(function* () {
      const http = yield* HttpClient.HttpClient
      const spec = yield* http.get("/openapi.json").pipe(Effect.flatMap((r) => r.json))
      expect(spec).toMatchObject({ openapi: "3.1.0", info: { title: "Quasar DataHub" } })
      expect(Object.keys((spec as { paths: object }).paths)).toContain("/health")
      const docs = yield* http.get("/docs")
      expect(docs.status).toBe(200)
      expect(yield* docs.text).toContain("swagger")
    })
  )

  it.effect("answers unknown routes with a JSON 404", () =>
    Effect.gen(function* () {
      const http = yield* HttpClient.HttpClient
      const res = yield* http.execute(HttpClientRequest.post("/no/such/route"))
      expect(res.status).toBe(404)
      expect(yield* res.json).toMatchObject({
        _tag: "NotFound",
        message: expect.stringContaining("/no/such/route")
      })
    })
  )
})

/** The DataHub on a fresh database reached through a proxy the test can cut and restore. */
const { proxied: ProxiedLive, databaseUrl: DatabaseUrlLive } = ProxiedDatabase.layers()

/** Polls /health until it answers `status` (at most 5 s) and returns the body. */
const healthUntil = (status: number) =>
  Effect.flatMap(HttpClient.HttpClient, (http) => http.get("/health")).pipe(
    Effect.filterOrFail(
      (res) => res.status === status,
      (res) => `health answered ${res.status}`
    ),
    Effect.flatMap((res) => res.json),
    Effect.retry(Schedule.spaced("100 millis")),
    Effect.timeoutFail({
      duration: "5 seconds",
      onTimeout: () => `/health did not answer ${status} within 5 s`
    })
  )

// Live clock (no test services): the pool's reconnects and the test's waits take real time.
layer(
  TestService.layer(DataHubAlone, DatabaseUrlLive).pipe(
    Layer.provideMerge(ProxiedLive), // the same (memoised) proxy the service connects through
    Layer.provide(Logger.remove(Logger.defaultLogger))
  ),
  { timeout: 60_000, excludeTestServices: true }
)("datahub service when the database goes away", (it) => {
  it.effect(
    "answers 503 while the database is unreachable and 200 again once it returns, without a restart",
    () =>
      Effect.gen(function* () {
        const { proxy } = yield* ProxiedDatabase.ProxiedDatabase
        yield* Effect.flatMap(SchemaState.SchemaState, (s) => s.ready)
        expect(yield* healthUntil(200)).toMatchObject({ service: "datahub", status: "ok" })
        yield* proxy.cut
        expect(yield* healthUntil(503)).toMatchObject({
          _tag: "Unhealthy",
          message: expect.stringContaining("database unreachable"),
          report: { service: "datahub", status: "unavailable", database: { status: "down" } }
        })
        yield* proxy.restore
        expect(yield* healthUntil(200)).toMatchObject({ status: "ok", database: { status: "up" } })
      })
  )
})
