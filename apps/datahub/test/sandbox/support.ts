/** What the sandbox tests share: the app under test, the derived client, and the health check. */
import { HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { type CodeKind, type CodeLanguage, DataHubApi, ProviderName } from "@quasar/domain"
import { SchemaState } from "@quasar/server"
import { TestService } from "@quasar/server/testing"
import { Duration, Effect, Layer, Logger, LogLevel } from "effect"
import { expect } from "vitest"
import { appLayer } from "../../src/App"
import { MemoryCatalog } from "../../src/testing/MemoryCatalog"
import { allowLocalServers, LocalServers } from "./localServers"

/** Short call timeouts and restart delays, so hostile cases finish quickly. */
const limits = {
  callTimeout: Duration.seconds(2),
  cancelGrace: Duration.seconds(1),
  restartDelay: Duration.millis(100),
  heartbeat: Duration.seconds(3)
}

/**
 * The app with short limits; only warnings are logged (each hostile case logs its rejection at
 * info). Sandboxed code reaches no fake: nothing is allowlisted.
 */
export const testApp = TestService.layer(appLayer(limits).pipe(Layer.provideMerge(MemoryCatalog.layer))).pipe(
  Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))
)

/** The same app with the fakes of LocalServers running and allowlisted by their host:port. */
export const testAppWithServers = TestService.layer(
  appLayer(limits, "pool", allowLocalServers())
    .pipe(Layer.provideMerge(MemoryCatalog.layer))
    .pipe(Layer.provideMerge(LocalServers.layer))
).pipe(Layer.provide(Logger.minimumLogLevel(LogLevel.Warning)))

/** The client the Registry is: its calls carry the service credential the sandbox routes need. */
export const client = Effect.zipRight(
  Effect.flatMap(SchemaState.SchemaState, (s) => s.ready),
  HttpApiClient.make(DataHubApi, {
    transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken(TestService.SERVICE_TOKEN))
  })
)

export const validate = (
  name: string,
  source: string,
  language: CodeLanguage = "javascript",
  kind: CodeKind = "provider"
) =>
  Effect.flatMap(client, (c) =>
    c.sandbox.validate({ payload: { name: ProviderName.make(name), kind, language, source } })
  )

/** DataHub keeps serving whatever a provider did. */
export const expectHealthy = Effect.gen(function* () {
  const health = yield* Effect.flatMap(client, (c) => c.health.health())
  expect(health.status).toBe("ok")
})

/** All issue messages of a report, one string, for `toContain`/`toMatch`. */
export const messages = (report: { readonly issues: ReadonlyArray<{ readonly message: string }> }) =>
  report.issues.map((i) => i.message).join("\n")
