/**
 * Property-based checks over every Trader endpoint: bodies, params and tokens generated from the
 * contract's own schemas, near misses and junk. Every answer is 2xx or 4xx (never 5xx), every
 * 4xx carries a JSON error that says what went wrong, and the stored runs stay consistent.
 */
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { BacktestRequest, BacktestRunStatus, TraderApi } from "@quasar/domain"
import { TestService, UndocumentedBodies } from "@quasar/server/testing"
import { Arbitrary, Effect, FastCheck as fc, Runtime } from "effect"
import { MINUTE, ready, T0, traderLayer } from "./support"

const RUNS = 60

const token = fc.constantFrom<string | null>(TestService.ADMIN_TOKEN, TestService.ADMIN_TOKEN, null, "wrong")
const instant = fc.oneof(
  fc.integer({ min: -50, max: 2_100 }).map((m) => new Date(T0 + m * MINUTE).toISOString()),
  fc.constantFrom("2024-13-01T00:00:00Z", "yesterday", "", "1970-01-01T00:00:00Z", "+275760-09-13T00:00:00Z")
)
const param = fc.oneof(
  fc.integer({ min: -10, max: 600 }),
  fc.double(),
  fc.boolean(),
  fc.string({ maxLength: 8 }),
  fc.constant(null)
)
/** Close to what the UI sends: the known strategy, mostly known providers, ranges around the bars. */
const nearlyValid = fc.record(
  {
    strategy: fc.constantFrom("sma-cross", "sma-cross", "nope", "Bad Name", ""),
    version: fc.oneof(fc.constantFrom(1, 2, 3, 0, -1, 2 ** 31), fc.double()),
    provider: fc.constantFrom("kraken", "kraken", "eodhd", "KRAKEN", "x".repeat(70)),
    from: instant,
    to: instant,
    params: fc.dictionary(fc.constantFrom("fast", "slow", "fraction", "other", "__proto__"), param),
    initialCash: fc.oneof(fc.constant(10_000), fc.double(), fc.integer()),
    fill: fc.record(
      { feeBps: fc.oneof(fc.integer({ min: -5, max: 2_000 }), fc.double()), slippageBps: fc.double() },
      { requiredKeys: [] }
    )
  },
  { requiredKeys: ["strategy", "provider", "from", "to"] }
)
const schemaValid = Arbitrary.make(BacktestRequest).map((r) => ({
  ...r,
  from: r.from.toString(),
  to: r.to.toString()
}))
/** A request that runs, so that submissions also create runs the consistency check looks at. */
const runs = fc.constant({
  strategy: "sma-cross",
  provider: "kraken",
  from: new Date(T0 + 200 * MINUTE).toISOString(),
  to: new Date(T0 + 1_000 * MINUTE).toISOString()
})
const junk = fc.oneof(fc.jsonValue(), fc.constantFrom("has space", "nul\u0000char", "", "[]", "{}"))
const idSegment = fc.oneof(
  fc.integer({ min: -3, max: 40 }).map(String),
  fc.constantFrom("x", "1.5", "99999999999", "%00", "1e3", "", "0x10"),
  fc.string({ minLength: 1, maxLength: 12 }).map(encodeURIComponent)
)

interface Call {
  readonly method: "GET" | "POST" | "DELETE"
  readonly url: string
  readonly json?: unknown
  readonly token?: string | null
}

layer(traderLayer(), { timeout: 180_000 })("trader properties", (it) => {
  it.effect("every endpoint answers valid and invalid input without a 5xx, and runs stay consistent", () =>
    Effect.gen(function* () {
      yield* ready
      const http = yield* HttpClient.HttpClient
      const sql = yield* SqlClient.SqlClient
      const send = (call: Call) =>
        Effect.gen(function* () {
          let request = HttpClientRequest.make(call.method)(call.url)
          const auth = call.token === undefined ? TestService.ADMIN_TOKEN : call.token
          if (auth !== null) request = HttpClientRequest.bearerToken(request, auth)
          if (call.json !== undefined) request = HttpClientRequest.bodyUnsafeJson(request, call.json)
          const response = yield* http.execute(request)
          return { status: response.status, text: yield* response.text }
        }).pipe(Effect.scoped, Effect.orDie)

      const runtime = yield* Effect.runtime<never>()
      const check = <A>(label: string, arb: fc.Arbitrary<A>, toCall: (a: A) => Call, numRuns = RUNS) =>
        Effect.promise(() =>
          fc.assert(
            fc.asyncProperty(arb, async (a) => {
              const call = toCall(a)
              const { status, text } = await Runtime.runPromise(runtime)(send(call))
              if (status >= 500)
                throw new Error(
                  `${label}: ${call.method} ${call.url} ${JSON.stringify(call.json)} → ${status}: ${text}`
                )
              if (status >= 400)
                expect(JSON.parse(text)).toMatchObject({
                  _tag: expect.any(String),
                  message: expect.any(String)
                })
            }),
            { numRuns }
          )
        )

      const consistent = Effect.gen(function* () {
        const bad = yield* sql`
          SELECT b.id, b.status FROM trader.backtests b
          LEFT JOIN trader.backtest_results r ON r.backtest_id = b.id
          WHERE (b.status = 'completed' AND r.backtest_id IS NULL)
             OR (b.status IN ('queued', 'running') AND b.finished_at IS NOT NULL)
             OR (b.status NOT IN ('queued', 'running') AND b.finished_at IS NULL)`
        expect(bad).toEqual([])
      })

      yield* check(
        "submit",
        fc.tuple(fc.oneof(runs, nearlyValid, schemaValid, junk), token),
        ([json, t]) => ({
          method: "POST",
          url: "/backtests",
          json,
          token: t
        })
      )
      const query = (params: Record<string, unknown>) =>
        Object.entries(params)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`)
          .join("&")
      yield* check(
        "list",
        fc.record(
          {
            status: fc.oneof(Arbitrary.make(BacktestRunStatus), fc.string({ maxLength: 10 })),
            strategy: fc.oneof(fc.constantFrom("sma-cross", "Nope"), fc.string({ maxLength: 70 })),
            limit: fc.oneof(fc.integer({ min: -2, max: 2_000 }), fc.constantFrom("x", "1.5", ""))
          },
          { requiredKeys: [] }
        ),
        (p) => ({ method: "GET", url: `/backtests?${query(p)}` })
      )
      yield* check("get", idSegment, (id) => ({ method: "GET", url: `/backtests/${id}` }))
      yield* check("cancel", fc.tuple(idSegment, token), ([id, t]) => ({
        method: "POST",
        url: `/backtests/${id}/cancel`,
        token: t
      }))
      yield* check("remove", fc.tuple(idSegment, token), ([id, t]) => ({
        method: "DELETE",
        url: `/backtests/${id}`,
        token: t
      }))
      yield* consistent
      const [stored] = yield* sql<{ n: number }>`SELECT count(*) AS n FROM trader.backtests`
      expect(stored?.n).toBeGreaterThan(0)
    })
  )

  it.effect("every endpoint taking a body answers 415 at once to an undocumented type, empty or not", () =>
    Effect.gen(function* () {
      yield* ready
      const { routes, wrong } = yield* UndocumentedBodies.probe(TraderApi)
      expect(routes).toBeGreaterThanOrEqual(2)
      expect(wrong).toEqual([])
    })
  )
})
