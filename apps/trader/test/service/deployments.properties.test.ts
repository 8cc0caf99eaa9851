/**
 * Property-based checks over the deployments and portfolio endpoints: bodies generated from the
 * contract's own schemas, near misses and junk, on every endpoint. Every answer is 2xx or 4xx
 * (never 5xx) and every 4xx is a JSON error with a message.
 */
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { expect, layer } from "@effect/vitest"
import { DeploymentRequest, DeploymentStatus } from "@quasar/domain"
import { TestService } from "@quasar/server/testing"
import { Arbitrary, Effect, FastCheck as fc, Runtime } from "effect"
import { deployment, trader } from "./deploymentsSupport"
import { ready } from "./support"

const RUNS = 40

const token = fc.constantFrom<string | null>(TestService.ADMIN_TOKEN, TestService.ADMIN_TOKEN, null, "wrong")
const number = fc.oneof(fc.double(), fc.integer({ min: -10, max: 100_000 }), fc.constant(null))
const nearlyValid = fc.record(
  {
    strategy: fc.constantFrom("buy-once", "sma-cross", "nope", "Bad Name"),
    version: fc.oneof(fc.constantFrom(1, 2, 0, -1, 2 ** 31), fc.double()),
    provider: fc.constantFrom("kraken", "KRAKEN", ""),
    params: fc.dictionary(fc.constantFrom("fast", "slow", "__proto__"), number),
    account: fc.record(
      {
        type: fc.constantFrom("paper", "margin"),
        initialCash: number,
        quote: fc.constantFrom("USD", "EUR", "usd", ""),
        feeBps: number,
        slippageBps: number
      },
      { requiredKeys: ["type"] }
    ),
    risk: fc.record({ maxOrderNotional: number, maxPositionNotional: number, maxDailyLoss: number })
  },
  { requiredKeys: ["strategy", "provider", "account", "risk"] }
)
const schemaValid = Arbitrary.make(DeploymentRequest)
const junk = fc.oneof(fc.jsonValue(), fc.constantFrom("has space", "nul\u0000char", "", "[]", "{}"))
const idSegment = fc.oneof(
  fc.integer({ min: -3, max: 20 }).map(String),
  fc.constantFrom("x", "1.5", "99999999999", "%00", "1e3", "0x10"),
  fc.string({ minLength: 1, maxLength: 12 }).map(encodeURIComponent)
)

layer(trader(), { timeout: 180_000 })("deployments properties", (it) => {
  it.effect("every deployments and portfolio endpoint answers any input without a 5xx", () =>
    Effect.gen(function* () {
      yield* ready
      const http = yield* HttpClient.HttpClient
      const send = (method: "GET" | "POST", url: string, json: unknown, auth: string | null) =>
        Effect.gen(function* () {
          let request = HttpClientRequest.make(method)(url)
          if (auth !== null) request = HttpClientRequest.bearerToken(request, auth)
          if (json !== undefined) request = HttpClientRequest.bodyUnsafeJson(request, json)
          const response = yield* http.execute(request)
          return { status: response.status, text: yield* response.text }
        }).pipe(Effect.scoped, Effect.orDie)
      const runtime = yield* Effect.runtime<never>()
      const check = <A>(arb: fc.Arbitrary<A>, call: (a: A) => Parameters<typeof send>) =>
        Effect.promise(() =>
          fc.assert(
            fc.asyncProperty(arb, async (a) => {
              const args = call(a)
              const { status, text } = await Runtime.runPromise(runtime)(send(...args))
              if (status >= 500)
                throw new Error(`${args[0]} ${args[1]} ${JSON.stringify(args[2])} → ${status}: ${text}`)
              if (status >= 400)
                expect(JSON.parse(text)).toMatchObject({
                  _tag: expect.any(String),
                  message: expect.any(String)
                })
            }),
            { numRuns: RUNS }
          )
        )

      yield* check(
        fc.tuple(fc.oneof(fc.constant(deployment()), nearlyValid, schemaValid, junk), token),
        ([json, t]) => ["POST", "/deployments", json, t]
      )
      yield* check(
        fc.record(
          {
            status: fc.oneof(Arbitrary.make(DeploymentStatus), fc.string({ maxLength: 10 })),
            strategy: fc.string({ maxLength: 70 })
          },
          { requiredKeys: [] }
        ),
        (p) => ["GET", `/deployments?${new URLSearchParams(p as Record<string, string>)}`, undefined, null]
      )
      for (const action of ["start", "kill", "stop"])
        yield* check(fc.tuple(idSegment, token), ([id, t]) => [
          "POST",
          `/deployments/${id}/${action}`,
          undefined,
          t
        ])
      for (const read of ["", "/orders", "/fills", "/audit"])
        yield* check(
          fc.tuple(
            idSegment,
            fc.oneof(fc.integer({ min: -2, max: 20_000 }), fc.constantFrom("x", "", "1.5"))
          ),
          ([id, limit]) => ["GET", `/deployments/${id}${read}?limit=${limit}`, undefined, null]
        )
      yield* check(idSegment, (id) => ["GET", `/portfolio/${id}`, undefined, null])
      const all = yield* send("GET", "/portfolio", undefined, null)
      expect(all.status).toBe(200)
    })
  )
})
