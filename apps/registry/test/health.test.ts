import { HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { expect, layer } from "@effect/vitest"
import { RegistryApi } from "@quasar/domain"
import { registryMigrations } from "@quasar/migrations/registry"
import { SchemaState } from "@quasar/server"
import { TestService } from "@quasar/server/testing"
import { Effect } from "effect"
import { RegistryLive } from "../src/App"

/** The newest migration of the Registry's own list. */
const latest = Math.max(...registryMigrations.map((m) => m.id))

layer(TestService.layer(RegistryLive), { timeout: 60_000 })("registry service", (it) => {
  it.effect("answers /health with 200, the database status and the migration version", () =>
    Effect.gen(function* () {
      yield* Effect.flatMap(SchemaState.SchemaState, (s) => s.ready)
      const client = yield* HttpApiClient.make(RegistryApi)
      const health = yield* client.health.health()
      expect(health.service).toBe("registry")
      expect(health.status).toBe("ok")
      expect(health.database.status).toBe("up")
      expect(["postgresql", "timescaledb"]).toContain(health.database.backend)
      expect(health.migrations).toEqual({ version: latest, pending: 0 })
    })
  )

  it.effect("serves the OpenAPI document and Swagger UI", () =>
    Effect.gen(function* () {
      const http = yield* HttpClient.HttpClient
      const spec = yield* http.get("/openapi.json").pipe(Effect.flatMap((r) => r.json))
      expect(spec).toMatchObject({ openapi: "3.1.0", info: { title: "Quasar Registry" } })
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

  it.effect("exports Prometheus metrics, counting the requests it answered", () =>
    Effect.gen(function* () {
      const http = yield* HttpClient.HttpClient
      yield* http.get("/health")
      const text = yield* http.get("/metrics").pipe(Effect.flatMap((r) => r.text))
      expect(text).toContain("# TYPE quasar_http_requests_total counter")
      expect(text).toMatch(/quasar_http_requests_total\{method="GET",route="\/health",status="200"\} \d+/)
      expect(text).toContain("quasar_http_request_duration_seconds_bucket")
    })
  )
})
