/**
 * The Registry's edge: secrets re-sealed from v1 to v2 at start, mappings CSV safe to open in a
 * spreadsheet, credentials checked by scheme and throttled per client address, bodies held to
 * their documented content types.
 */
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { type MappingInput, type ProviderName, RegistryApi } from "@quasar/domain"
import { REGISTRY_SCHEMA, registryMigrations } from "@quasar/migrations/registry"
import { AUTH_THROTTLE, ChangeFeed, DatabaseUrl, SchemaState, SecretBox, ServiceConfig } from "@quasar/server"
import { TestDatabase, TestService, UndocumentedBodies } from "@quasar/server/testing"
import { Effect, Layer, Option, Redacted, Schedule, TestServices } from "effect"
import { RegistryLive } from "../src/App"
import { ProviderSettings } from "../src/ProviderSettings"
import { FakeDataHub, layer as fakeDataHub, registryClient, registryLayer, seedCode } from "./fakeDataHub"

const ready = Effect.flatMap(SchemaState.SchemaState, (s) => s.ready)

/** A v1 envelope as the previous SecretBox wrote it: key = SHA-256 of the secret, no associated data. */
const sealV1 = (secret: string, plaintext: string) =>
  Effect.promise(async () => {
    const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url")
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret))
    const key = await crypto.subtle.importKey("raw", digest, "AES-GCM", false, ["encrypt"])
    const iv = crypto.getRandomValues(new Uint8Array(12))
    const sealed = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv },
      key,
      new TextEncoder().encode(plaintext)
    )
    return `v1:${b64(iv)}:${b64(new Uint8Array(sealed))}`
  })

const send = (request: HttpClientRequest.HttpClientRequest) =>
  Effect.flatMap(HttpClient.HttpClient, (http) =>
    http.execute(request).pipe(
      Effect.flatMap((r) => Effect.map(r.text, (text) => ({ status: r.status, headers: r.headers, text }))),
      Effect.scoped
    )
  )

// The settings service on a migrated database, without the Registry's start job (ResealOnStart,
// tested below), which would race this test for the rows it inserts.
const settingsAlone = TestService.layer(
  ProviderSettings.layer.pipe(
    Layer.provideMerge(ChangeFeed.layer(REGISTRY_SCHEMA)),
    Layer.provideMerge(SchemaState.layer(registryMigrations, { schema: REGISTRY_SCHEMA }))
  )
)

layer(settingsAlone, { timeout: 60_000 })("re-sealing legacy secrets", (it) => {
  it.effect("re-seals v1 secrets as v2 bound to their setting, once; a value it cannot open is kept", () =>
    Effect.gen(function* () {
      yield* ready
      const sql = yield* SqlClient.SqlClient
      const config = yield* ServiceConfig
      const secret = Redacted.value(Option.getOrThrow(config.secretKey))
      const values = { apiToken: yield* sealV1(secret, "tok-1"), other: yield* sealV1(secret, "tok-2") }
      const foreign = yield* sealV1("not-this-deployment's-key-0123456789", "lost")
      yield* sql`INSERT INTO registry.provider_settings (name, "values", secrets) VALUES
        ('legacy', '{"baseUrl":"https://x"}'::jsonb, ${JSON.stringify(values)}::jsonb),
        ('foreign', '{}'::jsonb, ${JSON.stringify({ apiToken: foreign })}::jsonb)`

      const settings = yield* ProviderSettings
      expect(yield* settings.resealLegacy).toBe(2)
      const read = (name: string) =>
        Effect.map(
          sql<{ values: object; secrets: Record<string, string> }>`
            SELECT "values", secrets FROM registry.provider_settings WHERE name = ${name}`,
          (rows) => rows[0]
        )
      const after = yield* read("legacy")
      expect(after?.values).toEqual({ baseUrl: "https://x" })
      const box = yield* SecretBox.make(Option.getOrThrow(config.secretKey))
      for (const [setting, plain] of [
        ["apiToken", "tok-1"],
        ["other", "tok-2"]
      ] as const) {
        const envelope = after?.secrets[setting] ?? ""
        expect(envelope).toMatch(/^v2:/)
        expect(yield* box.open(envelope, { provider: "legacy", setting })).toBe(plain)
      }
      // Bound to its setting: swapping the two no longer opens.
      const swapped = yield* Effect.either(
        box.open(after?.secrets.apiToken ?? "", { provider: "legacy", setting: "other" })
      )
      expect(swapped._tag).toBe("Left")
      // The foreign value is left as it was; a second run changes nothing.
      expect((yield* read("foreign"))?.secrets.apiToken).toBe(foreign)
      expect(yield* settings.resealLegacy).toBe(0)
      expect((yield* read("legacy"))?.secrets).toEqual(after?.secrets)
    })
  )
})

layer(registryLayer, { timeout: 60_000 })("registry edge", (it) => {
  it.effect("a Registry starting on a database with v1 secrets re-seals them by itself", () =>
    Effect.gen(function* () {
      yield* ready
      const sql = yield* SqlClient.SqlClient
      const config = yield* ServiceConfig
      const legacy = yield* sealV1(Redacted.value(Option.getOrThrow(config.secretKey)), "tok-3")
      yield* sql`INSERT INTO registry.provider_settings (name, "values", secrets)
        VALUES ('at-start', '{}'::jsonb, ${JSON.stringify({ apiToken: legacy })}::jsonb)`
      const { url } = yield* DatabaseUrl
      const fake = yield* FakeDataHub
      yield* TestService.start(
        RegistryLive,
        DatabaseUrl.layer(url),
        TestService.testConfig({ datahubUrl: fake.url })
      )
      const resealed = yield* sql<{ envelope: string }>`
        SELECT secrets->>'apiToken' AS envelope FROM registry.provider_settings WHERE name = 'at-start'`.pipe(
        Effect.map((rows) => rows[0]?.envelope ?? ""),
        Effect.filterOrFail(
          (e) => e.startsWith("v2:"),
          () => "still v1"
        ),
        Effect.retry({ schedule: Schedule.spaced("100 millis"), times: 200 })
      )
      const box = yield* SecretBox.make(Option.getOrThrow(config.secretKey))
      expect(yield* box.open(resealed, { provider: "at-start", setting: "apiToken" })).toBe("tok-3")
      // Live clock: the second Registry's start-up and the polling above wait on real time.
    }).pipe(Effect.scoped, TestServices.provideLive)
  )

  it.effect(
    "exports CSV cells a spreadsheet would run as formulas as text, and reads them back unchanged",
    () =>
      Effect.gen(function* () {
        yield* ready
        yield* seedCode("kraken")
        const fake = yield* FakeDataHub
        const hostile = ["=1+2", "+SUM(A1)", "-2+3", "@cmd", "'quoted", "''twice", "'=x", "A,=B"]
        yield* fake.setListing(
          "kraken",
          hostile.map((symbol) => ({ symbol, assetClass: "crypto" as const }))
        )
        const client = yield* registryClient()
        yield* client.assets.refresh({ path: { provider: "kraken" as ProviderName } })
        const mappings: Array<MappingInput> = hostile.map((symbol, i) => ({
          commonSymbol: i % 2 === 0 ? `@C${i}` : `C${i}`,
          source: "kraken" as ProviderName,
          symbol
        }))
        expect((yield* client.mappings.bulk({ payload: { mappings } })).created).toBe(hostile.length)

        const csv = (yield* send(HttpClientRequest.get("/mappings.csv"))).text
        const cells = csv
          .split("\r\n")
          .slice(1)
          .filter((l) => l !== "")
          .flatMap((line) => line.match(/("([^"]|"")*"|[^,]*)(,|$)/g) ?? [])
          .map((c) => c.replace(/,$/, "").replace(/^"|"$/g, ""))
          .filter((c) => c !== "")
        for (const cell of cells) expect(cell, cell).not.toMatch(/^[=+\-@]/)
        expect(csv).toContain("'=1+2")
        expect(csv).toContain("'@cmd")

        // Import of the export: nothing new, nothing changed.
        const imported = yield* send(
          HttpClientRequest.post("/mappings/import").pipe(
            HttpClientRequest.bearerToken(TestService.ADMIN_TOKEN),
            HttpClientRequest.bodyText(csv, "text/csv")
          )
        )
        expect(imported.status).toBe(200)
        expect(JSON.parse(imported.text)).toMatchObject({
          created: 0,
          unchanged: hostile.length,
          conflicts: []
        })
        const listed = yield* client.mappings.list({ urlParams: { source: "kraken" as ProviderName } })
        expect(listed.map((m) => m.symbol).sort()).toEqual([...hostile].sort())
      })
  )

  it.effect("accepts only the Bearer scheme, and only the documented content types", () =>
    Effect.gen(function* () {
      yield* ready
      const put = (auth: string | null, body: string, type: string) => {
        const req = HttpClientRequest.put("/mappings").pipe(HttpClientRequest.bodyText(body, type))
        return send(auth === null ? req : HttpClientRequest.setHeader(req, "authorization", auth))
      }
      const mapping = JSON.stringify({ commonSymbol: "X", source: "nobody", symbol: "Y" })
      // The platform alone would take any seven characters before the token as the scheme.
      for (const auth of [
        `Basic ${TestService.ADMIN_TOKEN}`,
        `Token  ${TestService.ADMIN_TOKEN}`,
        `Bearer`,
        "Bearer a b"
      ])
        expect((yield* put(auth, mapping, "application/json")).status, auth).toBe(401)
      for (const auth of [`Bearer ${TestService.ADMIN_TOKEN}`, `bearer ${TestService.ADMIN_TOKEN}`])
        expect((yield* put(auth, mapping, "application/json")).status, auth).toBe(404)
      // Unauthenticated: 401 whatever the body.
      expect((yield* put(null, "a=b", "application/x-www-form-urlencoded")).status).toBe(401)
      const auth = `Bearer ${TestService.ADMIN_TOKEN}`
      for (const [body, type] of [
        ["commonSymbol=X&source=nobody&symbol=Y", "application/x-www-form-urlencoded"],
        [mapping, "text/plain"],
        [mapping, "multipart/form-data; boundary=x"],
        [mapping, "application/octet-stream"]
      ] as const) {
        const res = yield* put(auth, body, type)
        expect(res.status, type).toBe(415)
        expect(JSON.parse(res.text)).toMatchObject({
          _tag: "UnsupportedMediaType",
          accepted: ["application/json"]
        })
      }
      expect((yield* put(auth, mapping, "application/json; charset=utf-8")).status).toBe(404)
      // CSV import takes text/csv, not JSON.
      const csv = yield* send(
        HttpClientRequest.post("/mappings/import").pipe(
          HttpClientRequest.setHeader("authorization", auth),
          HttpClientRequest.bodyUnsafeJson({ mappings: [] })
        )
      )
      expect(csv.status).toBe(415)
    })
  )

  it.effect("every endpoint taking a body answers 415 at once to an undocumented type, empty or not", () =>
    Effect.gen(function* () {
      yield* ready
      const { routes, wrong } = yield* UndocumentedBodies.probe(RegistryApi)
      expect(routes).toBeGreaterThanOrEqual(5)
      expect(wrong).toEqual([])
    })
  )
})

/** The production throttling policy, with a Registry of its own. */
const throttled = Layer.unwrapEffect(
  Effect.map(FakeDataHub, (fake) =>
    TestService.layer(
      RegistryLive,
      TestDatabase.layer,
      TestService.testConfig({ datahubUrl: fake.url, authThrottle: AUTH_THROTTLE })
    )
  )
).pipe(Layer.provideMerge(fakeDataHub))

layer(throttled, { timeout: 60_000 })("registry credential throttling", (it) => {
  it.effect(
    `after ${AUTH_THROTTLE.maxFailures} wrong tokens a client gets 429 with Retry-After, even with the right one; other clients do not`,
    () =>
      Effect.gen(function* () {
        yield* ready
        const write = (token: string | null, forwardedFor?: string) => {
          let req = HttpClientRequest.post("/assets/refresh/nothing")
          if (token !== null) req = HttpClientRequest.bearerToken(req, token)
          if (forwardedFor) req = HttpClientRequest.setHeader(req, "x-forwarded-for", forwardedFor)
          return send(req)
        }
        // Missing tokens are not guesses.
        for (let i = 0; i < 20; i++) expect((yield* write(null)).status).toBe(401)
        for (let i = 0; i < AUTH_THROTTLE.maxFailures; i++)
          expect((yield* write(`wrong-token-${i}-0123456789abcdefghijklmn`)).status).toBe(403)
        for (const token of ["wrong-again-0123456789abcdefghijklmnop", TestService.ADMIN_TOKEN, null]) {
          const refused = yield* write(token)
          expect(refused.status).toBe(429)
          expect(JSON.parse(refused.text)).toMatchObject({ _tag: "TooManyAttempts" })
          const retryAfter = Number(refused.headers["retry-after"])
          expect(retryAfter).toBeGreaterThanOrEqual(1)
          expect(retryAfter).toBeLessThanOrEqual(AUTH_THROTTLE.windowSeconds)
        }
        // Reads stay open; another client behind the same proxy is not affected.
        expect((yield* send(HttpClientRequest.get("/code"))).status).toBe(200)
        expect((yield* write(TestService.ADMIN_TOKEN, "203.0.113.9")).status).toBe(404)
      })
  )
})
