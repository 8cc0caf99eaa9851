/**
 * Property-based checks over every Registry endpoint: valid and invalid bodies, params and
 * tokens, generated from the contract's own schemas. The assets and mappings endpoints must
 * answer 2xx or 4xx (never 5xx), with a JSON error body that says what went wrong, and leave the
 * database consistent. For the code endpoints every 5xx is collected with its request and the
 * test fails listing them all.
 */
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import {
  AssetClass,
  MappingInput,
  MarketSymbol,
  ProviderName,
  SettingsInput,
  UploadCode
} from "@quasar/domain"
import { SchemaState } from "@quasar/server"
import { TestService } from "@quasar/server/testing"
import { Arbitrary, Effect, Either, FastCheck as fc, Runtime } from "effect"
import * as MappingsCsv from "../src/MappingsCsv"
import * as MappingsImport from "../src/MappingsImport"
import { FakeDataHub, registryLayer, seedCode } from "./fakeDataHub"

/** Providers, a broker, and a strategy (which settings, refresh and mappings refuse). */
const SOURCES = ["kraken", "eodhd", "ibkr", "sma-cross"]
const RUNS = 60

/** Mostly known sources and a small pool of symbols, so that rows collide and rules get exercised. */
const source = fc.oneof(fc.constantFrom(...SOURCES), Arbitrary.make(ProviderName))
const symbol = fc.oneof(
  fc.constantFrom("BTC/USD", "XBT/USD", "A,B", 'Q"T', "X%2FY", "ÄÖ", "AAPL", "NUL\u0000X", "BELL\u0007"),
  Arbitrary.make(MarketSymbol)
)
const validMapping = fc.record({ commonSymbol: symbol, source, symbol })
const validMappings = fc.array(fc.oneof(validMapping, Arbitrary.make(MappingInput)), { maxLength: 20 })
/** Anything JSON can carry, plus near misses: wrong types, spaces, control characters, huge strings. */
const junk = fc.oneof(
  fc.jsonValue(),
  fc.record({ commonSymbol: fc.string(), source: fc.string(), symbol: fc.oneof(fc.string(), fc.integer()) }),
  fc.constantFrom("has space", "nul\u0000char", "x".repeat(65), "", "Kraken", "a/b", "\u0007")
)
const token = fc.constantFrom<string | null>(TestService.ADMIN_TOKEN, TestService.ADMIN_TOKEN, null, "wrong")
/** A path segment as a client would send it (encoded) or as a careless one would (raw). */
const segment = fc.oneof(
  symbol.map(encodeURIComponent),
  junk.map((j) => encodeURIComponent(JSON.stringify(j) ?? "")),
  fc.string({ minLength: 1 }).map(encodeURIComponent)
)

type Body = { readonly json: unknown } | { readonly text: string } | undefined
interface Call {
  readonly method: "GET" | "POST" | "PUT" | "DELETE"
  readonly url: string
  readonly body?: Body
  readonly token?: string | null
}

layer(registryLayer, { timeout: 180_000 })("registry properties", (it) => {
  it.effect(
    "every endpoint answers valid and invalid input without a 5xx, and the data stays consistent",
    () =>
      Effect.gen(function* () {
        yield* Effect.flatMap(SchemaState.SchemaState, (s) => s.ready)
        const http = yield* HttpClient.HttpClient
        const sql = yield* SqlClient.SqlClient
        const fake = yield* FakeDataHub
        yield* seedCode("kraken")
        yield* seedCode("eodhd")
        yield* seedCode("ibkr", { kind: "broker" })
        yield* seedCode("sma-cross", { kind: "strategy" })
        yield* seedCode("dormant", { status: "valid" })
        yield* fake.setListing("kraken", [
          { symbol: "XBT/USD", assetClass: "crypto", base: "BTC", quote: "USD" },
          { symbol: "ETH/USD", assetClass: "crypto", base: "ETH", quote: "USD" }
        ])
        yield* fake.setListing("eodhd", [
          { symbol: "BTC-USD.CC", assetClass: "crypto", base: "BTC", quote: "USD" }
        ])

        const send = (call: Call) =>
          Effect.gen(function* () {
            let request = HttpClientRequest.make(call.method)(call.url)
            const auth = call.token === undefined ? TestService.ADMIN_TOKEN : call.token
            if (auth !== null) request = HttpClientRequest.bearerToken(request, auth)
            if (call.body && "json" in call.body)
              request = HttpClientRequest.bodyUnsafeJson(request, call.body.json)
            if (call.body && "text" in call.body)
              request = HttpClientRequest.bodyText(request, call.body.text, "text/csv")
            const response = yield* http.execute(request)
            return { status: response.status, text: yield* response.text }
          }).pipe(Effect.scoped, Effect.orDie)

        const runtime = yield* Effect.runtime<never>()
        /** The first 5xx of each code endpoint, with its request and answer. */
        const findings = new Map<string, string>()
        /**
         * Our endpoints: never a 5xx — except the 503 that refresh is specified to answer when
         * DataHub cannot list a provider — and every 4xx carries a JSON error with a message.
         */
        const mine = <A>(
          label: string,
          arb: fc.Arbitrary<A>,
          toCall: (a: A) => Call,
          options: { readonly numRuns?: number; readonly unavailable?: boolean } = {}
        ) =>
          Effect.promise(() =>
            fc.assert(
              fc.asyncProperty(arb, async (a) => {
                const call = toCall(a)
                const { status, text } = await Runtime.runPromise(runtime)(send(call))
                const tag = status >= 400 ? /"_tag":"(\w+)"/.exec(text)?.[1] : undefined
                const specified = options.unavailable && status === 503 && tag === "ServiceUnavailable"
                if (status >= 500 && !specified)
                  throw new Error(`${label}: ${call.method} ${call.url} answered ${status}: ${text}`)
                if (status >= 400)
                  expect(JSON.parse(text)).toMatchObject({
                    _tag: expect.any(String),
                    message: expect.any(String)
                  })
              }),
              { numRuns: options.numRuns ?? RUNS }
            )
          )
        /** The code endpoints: every 5xx is collected with its request, then asserted absent. */
        const theirs = <A>(label: string, arb: fc.Arbitrary<A>, toCall: (a: A) => Call) =>
          Effect.promise(() =>
            fc.assert(
              fc.asyncProperty(arb, async (a) => {
                const call = toCall(a)
                const { status, text } = await Runtime.runPromise(runtime)(send(call))
                const key = `${label} → ${status}`
                if (status >= 500 && !findings.has(key))
                  findings.set(
                    key,
                    `${call.method} ${call.url} ${JSON.stringify(call.body)?.slice(0, 200)}: ${text}`
                  )
              }),
              { numRuns: 25 }
            )
          )

        const consistent = Effect.gen(function* () {
          const doubled =
            yield* sql`SELECT common_symbol, source FROM registry.asset_mapping GROUP BY 1, 2 HAVING count(*) > 1`
          const orphans =
            yield* sql`SELECT m.source, m.symbol FROM registry.asset_mapping m WHERE m.source_kind IS DISTINCT FROM
          (SELECT kind FROM registry.code_registry c WHERE c.name = m.source ORDER BY version DESC LIMIT 1)`
          const badAssets =
            yield* sql`SELECT provider, symbol FROM registry.assets WHERE status NOT IN ('active', 'delisted')`
          expect({ doubled, orphans, badAssets }).toEqual({ doubled: [], orphans: [], badAssets: [] })
          // The CSV export reads back as exactly the stored mappings.
          const csv = yield* send({ method: "GET", url: "/mappings.csv" })
          const listed = yield* send({ method: "GET", url: "/mappings" })
          const parsed = MappingsImport.read(csv.text)
          const stored = (
            JSON.parse(listed.text) as Array<{ commonSymbol: string; source: string; symbol: string }>
          ).map(({ commonSymbol, source, symbol }) => ({ commonSymbol, source, symbol }))
          expect(parsed).toEqual(Either.right(stored))
        })

        // Mappings
        yield* mine("upsert", fc.tuple(fc.oneof(validMapping, junk), token), ([json, t]) => ({
          method: "PUT",
          url: "/mappings",
          body: { json },
          token: t
        }))
        yield* consistent
        yield* mine("bulk", fc.tuple(fc.oneof(validMappings, junk), token), ([mappings, t]) => ({
          method: "POST",
          url: "/mappings/bulk",
          body: { json: Array.isArray(mappings) ? { mappings } : mappings },
          token: t
        }))
        yield* consistent
        const csvText = fc.oneof(
          validMappings.map((rows) => MappingsCsv.format(rows)),
          fc.string(),
          fc
            .array(fc.array(fc.string(), { maxLength: 4 }), { maxLength: 5 })
            .map((rows) => `common_symbol,source,symbol\n${rows.map((r) => r.join(",")).join("\n")}`)
        )
        yield* mine("import", fc.tuple(csvText, token), ([text, t]) => ({
          method: "POST",
          url: "/mappings/import",
          body: { text },
          token: t
        }))
        yield* consistent
        yield* mine("remove", fc.tuple(source, segment, token), ([s, sym, t]) => ({
          method: "DELETE",
          url: `/mappings/${encodeURIComponent(s)}/${sym}`,
          token: t
        }))
        yield* consistent
        const query = (params: Record<string, unknown>) =>
          Object.entries(params)
            .filter(([, v]) => v !== undefined)
            .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
            .join("&")
        yield* mine(
          "list",
          fc.record({
            commonSymbol: fc.option(fc.oneof(symbol, fc.string()), { nil: undefined }),
            source: fc.option(fc.oneof(source, fc.string()), { nil: undefined })
          }),
          (p) => ({ method: "GET", url: `/mappings?${query(p)}` })
        )
        yield* mine(
          "suggestions",
          fc.constant(null),
          () => ({ method: "GET", url: "/mappings/suggestions" }),
          { numRuns: 5 }
        )
        yield* mine("export", fc.constant(null), () => ({ method: "GET", url: "/mappings.csv" }), {
          numRuns: 5
        })

        // Assets
        const searchParams = fc.record(
          {
            q: fc.oneof(
              fc.string({ maxLength: 120 }),
              fc.constantFrom("xbt", "%", "_", "\\", "nul\u0000", "BTC/USD")
            ),
            provider: fc.oneof(source, fc.string()),
            assetClass: fc.oneof(Arbitrary.make(AssetClass), fc.string()),
            exchange: fc.string({ maxLength: 70 }),
            status: fc.constantFrom("active", "delisted", "gone"),
            limit: fc.oneof(fc.integer({ min: -5, max: 600 }), fc.constantFrom("x", "1.5", "")),
            offset: fc.oneof(fc.integer({ min: -1, max: 20_000_000 }), fc.constant("NaN"))
          },
          { requiredKeys: [] }
        )
        yield* mine("search", searchParams, (p) => ({ method: "GET", url: `/assets?${query(p)}` }))
        yield* mine(
          "refresh",
          fc.tuple(
            fc.oneof(fc.constantFrom("kraken", "eodhd", "ibkr", "dormant", "sma-cross"), source, segment),
            token
          ),
          ([provider, t]) => ({ method: "POST", url: `/assets/refresh/${provider}`, token: t }),
          { numRuns: 30, unavailable: true }
        )
        yield* consistent

        // Code (another engineer's endpoints)
        const name = fc.oneof(
          fc.constantFrom("pcode", "pcode2", "sma-cross"),
          Arbitrary.make(ProviderName),
          segment
        )
        const version = fc.oneof(
          fc.integer({ min: -1, max: 4 }).map(String),
          fc.constantFrom("x", "1.5", "99999999999")
        )
        const body = fc.oneof(
          Arbitrary.make(UploadCode).map((json) => ({ json })),
          junk.map((json) => ({ json }))
        )
        yield* theirs("GET /code", fc.constant(null), () => ({ method: "GET", url: "/code" }))
        yield* theirs("GET /code/{name}", name, (n) => ({ method: "GET", url: `/code/${n}` }))
        yield* theirs("POST /code/{name}", fc.tuple(name, body, token), ([n, b, t]) => ({
          method: "POST",
          url: `/code/${n}`,
          body: b,
          token: t
        }))
        for (const [method, suffix] of [
          ["GET", ""],
          ["GET", "/source"],
          ["POST", "/activate"],
          ["DELETE", ""]
        ] as const)
          yield* theirs(
            `${method} /code/{name}/versions/{version}${suffix}`,
            fc.tuple(name, version, token),
            ([n, v, t]) => ({ method, url: `/code/${n}/versions/${v}${suffix}`, token: t })
          )
        for (const action of ["disable", "rollback"])
          yield* theirs(`POST /code/{name}/${action}`, fc.tuple(name, token), ([n, t]) => ({
            method: "POST",
            url: `/code/${n}/${action}`,
            token: t
          }))
        yield* theirs("GET /code/{name}/settings", name, (n) => ({
          method: "GET",
          url: `/code/${n}/settings`
        }))
        const settings = fc.oneof(
          Arbitrary.make(SettingsInput).map((json) => ({ json })),
          junk.map((json) => ({ json }))
        )
        yield* theirs("PUT /code/{name}/settings", fc.tuple(name, settings, token), ([n, b, t]) => ({
          method: "PUT",
          url: `/code/${n}/settings`,
          body: b,
          token: t
        }))
        yield* consistent

        expect(Object.fromEntries(findings)).toEqual({})
      })
  )
})
