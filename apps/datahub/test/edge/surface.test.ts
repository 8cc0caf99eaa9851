/**
 * What DataHub shows the outside, besides its answers: CORS for configured origins only (none by
 * default), the docs page without inline script and internal routes marked in OpenAPI, `/health`
 * logged at debug.
 */
import { HttpClient } from "@effect/platform"
import { expect, layer } from "@effect/vitest"
import { TestService } from "@quasar/server/testing"
import { Effect, HashMap, Layer, Logger, LogLevel, Option } from "effect"
import { DataHubAlone } from "../../src/testing/DataHubAlone"
import { port, raw, ready } from "./support"

/** Log lines of the service: level, message and the request path. */
const lines: Array<{ level: string; message: string; path: unknown }> = []
const recording = Layer.merge(
  Logger.replace(
    Logger.defaultLogger,
    Logger.make(({ logLevel, message, annotations }) => {
      lines.push({
        level: logLevel.label,
        message: Array.isArray(message) ? message.map(String).join(" ") : String(message),
        path: Option.getOrUndefined(HashMap.get(annotations, "path"))
      })
    })
  ),
  Logger.minimumLogLevel(LogLevel.Debug)
)

layer(TestService.layer(DataHubAlone).pipe(Layer.provide(recording)), {
  timeout: 120_000,
  excludeTestServices: true
})("what datahub shows", (it) => {
  it.effect("no CORS headers for any origin by default", () =>
    Effect.gen(function* () {
      yield* ready
      const p = yield* port
      const simple = yield* raw(p, {
        method: "GET",
        path: "/health",
        headers: { origin: "https://evil.example" }
      })
      expect(simple.headers["access-control-allow-origin"]).toBeUndefined()
      const preflight = yield* raw(p, {
        method: "OPTIONS",
        path: "/subscriptions",
        headers: {
          origin: "https://evil.example",
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization, content-type"
        }
      })
      expect(preflight.headers["access-control-allow-origin"]).toBeUndefined()
      expect(preflight.headers["access-control-allow-headers"]).toBeUndefined()
    })
  )

  it.effect("serves the docs without inline script, under any prefix, and marks internal routes", () =>
    Effect.gen(function* () {
      yield* ready
      const http = yield* HttpClient.HttpClient
      const page = yield* http.get("/docs")
      const html = yield* page.text
      expect(page.headers["content-type"]).toContain("text/html")
      const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)]
      expect(scripts.map((s) => s[1]?.trim())).toEqual([
        'src="docs/swagger-ui-bundle.js"',
        'src="docs/swagger-initializer.js"'
      ])
      expect(scripts.every((s) => s[2] === "")).toBe(true)
      expect(html).not.toMatch(/ on\w+=|style="|javascript:/)
      for (const [file, type] of [
        ["swagger-ui-bundle.js", "application/javascript"],
        ["swagger-initializer.js", "application/javascript"],
        ["swagger-ui.css", "text/css"]
      ]) {
        const asset = yield* http.get(`/docs/${file}`)
        expect(asset.status, file).toBe(200)
        expect(asset.headers["content-type"]).toContain(type)
      }
      const slash = yield* raw(yield* port, { method: "GET", path: "/docs/" })
      expect([slash.status, slash.headers.location]).toEqual([301, "../docs"])
      const spec = (yield* Effect.flatMap(http.get("/openapi.json"), (r) => r.json)) as {
        paths: Record<string, Record<string, Record<string, unknown>>>
        components: { securitySchemes: Record<string, unknown> }
      }
      expect(spec.paths["/internal/sandbox/validate"]?.post).toMatchObject({
        "x-internal": true,
        "x-max-body-bytes": 7 * 1_048_576,
        security: [{ serviceToken: [] }]
      })
      expect(spec.paths["/subscriptions"]?.post?.["x-internal"]).toBeUndefined()
      expect(Object.keys(spec.components.securitySchemes).sort()).toEqual(["adminToken", "serviceToken"])
    })
  )

  it.effect("logs /health at debug and other requests at info", () =>
    Effect.gen(function* () {
      yield* ready
      const p = yield* port
      lines.length = 0
      yield* raw(p, { method: "GET", path: "/health" })
      yield* raw(p, { method: "GET", path: "/live/status" })
      const requests = lines.filter((l) => l.message === "http request")
      expect(requests.map((l) => [l.path, l.level])).toEqual([
        ["/health", "DEBUG"],
        ["/live/status", "INFO"]
      ])
    })
  )
})

const allowed = "http://ui.example:8443"
layer(TestService.layer(DataHubAlone, undefined, TestService.testConfig({ corsOrigins: [allowed] })), {
  timeout: 60_000,
  excludeTestServices: true
})("datahub with QUASAR_CORS_ORIGINS", (it) => {
  it.effect("answers CORS for the configured origin only", () =>
    Effect.gen(function* () {
      yield* ready
      const p = yield* port
      const from = (origin: string) => raw(p, { method: "GET", path: "/health", headers: { origin } })
      expect((yield* from(allowed)).headers["access-control-allow-origin"]).toBe(allowed)
      for (const other of [
        "http://ui.example",
        "http://ui.example:8443.evil",
        "null",
        "https://ui.example:8443"
      ])
        expect((yield* from(other)).headers["access-control-allow-origin"], other).toBeUndefined()
      const preflight = yield* raw(p, {
        method: "OPTIONS",
        path: "/subscriptions",
        headers: { origin: allowed, "access-control-request-method": "POST" }
      })
      expect(preflight.status).toBe(204)
      expect(preflight.headers["access-control-allow-origin"]).toBe(allowed)
      expect(preflight.headers["access-control-allow-headers"]).toBe("authorization,content-type")
    })
  )
})
