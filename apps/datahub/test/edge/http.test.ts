/**
 * No request can crash or wedge DataHub, and bad input gets a clear 4xx: a flood of unknown
 * paths leaves `/metrics` one label per route; bodies are refused by size (before they are
 * read), length, content type, nesting and syntax; ids past PostgreSQL's `integer` are refused;
 * validation errors are short.
 */
import { Agent, request } from "node:http"
import { expect, layer } from "@effect/vitest"
import { DataHubApi } from "@quasar/domain"
import { TestService, UndocumentedBodies } from "@quasar/server/testing"
import { Effect, Layer, Logger } from "effect"
import { DataHubAlone } from "../../src/testing/DataHubAlone"
import { announcingHugeBody, port, raw, ready } from "./support"

const admin = { authorization: `Bearer ${TestService.ADMIN_TOKEN}` }
const json = { ...admin, "content-type": "application/json" }
const subscription = JSON.stringify({ provider: "nobody", symbol: "X", timeframes: ["1m"], mode: "history" })

/** Enough distinct paths that a label per path would show (a line each, past the size bound below). */
const FLOOD = 2_000

/** `n` GETs of distinct unknown paths, `concurrency` at a time over kept-alive connections. */
const flood = (p: number, n: number, concurrency: number) =>
  Effect.promise(async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: concurrency })
    const statuses = new Map<number, number>()
    let next = 0
    const worker = async () => {
      while (next < n) {
        const i = next++
        const status = await new Promise<number>((resolve, reject) => {
          const path = i % 2 === 0 ? `/no/such/path/${i}-${Math.random()}` : `/subscriptions/${i}/nope/${i}`
          request({ host: "127.0.0.1", port: p, path, agent }, (res) => {
            res.resume()
            res.on("end", () => resolve(res.statusCode ?? 0))
          })
            .on("error", reject)
            .end()
        })
        statuses.set(status, (statuses.get(status) ?? 0) + 1)
      }
    }
    await Promise.all(Array.from({ length: concurrency }, worker))
    agent.destroy()
    return Object.fromEntries(statuses)
  })

// The flood's twenty thousand log lines stay out of the test output.
layer(TestService.layer(DataHubAlone).pipe(Layer.provide(Logger.remove(Logger.defaultLogger))), {
  timeout: 300_000,
  excludeTestServices: true
})("datahub under bad requests", (it) => {
  it.effect(
    `${FLOOD} distinct unknown paths make one metrics label, and /metrics stays small`,
    () =>
      Effect.gen(function* () {
        yield* ready
        const p = yield* port
        expect(yield* flood(p, FLOOD, 32)).toEqual({ 404: FLOOD })
        const metrics = yield* raw(p, { method: "GET", path: "/metrics" })
        expect(metrics.status).toBe(200)
        const routes = new Set(
          [...metrics.text.matchAll(/^quasar_http_requests_total\{[^}]*route="([^"]*)"/gm)].map((m) => m[1])
        )
        expect([...routes]).toContain("unmatched")
        expect(routes.size).toBeLessThanOrEqual(5)
        expect(metrics.text.length).toBeLessThan(50_000)
        const unmatched = [
          ...metrics.text.matchAll(/^quasar_http_requests_total\{[^}]*route="unmatched"[^}]*\} (\d+)/gm)
        ]
        expect(unmatched.reduce((sum, m) => sum + Number(m[1]), 0)).toBeGreaterThanOrEqual(FLOOD)
        // Known routes are labelled by template, whatever their ids.
        yield* raw(p, { method: "GET", path: "/subscriptions/123456" })
        const again = (yield* raw(p, { method: "GET", path: "/metrics" })).text
        expect(again).toMatch(/route="\/subscriptions\/:id",status="404"/)
        expect(again).not.toContain("123456")
        expect((yield* raw(p, { method: "GET", path: "/health" })).status).toBe(200)
      }),
    // Thousands of requests take a second on an idle machine, a minute on a loaded one.
    240_000
  )

  it.effect("bodies: 413 over the limit before reading it, 411 without a length, 415 for other types", () =>
    Effect.gen(function* () {
      yield* ready
      const p = yield* port
      // 80 MB announced, one byte sent: the answer comes at once, nothing more is read.
      const big = yield* announcingHugeBody(p, "/subscriptions", admin)
      expect(big.status).toBe(413)
      expect(JSON.parse(big.text)).toMatchObject({ _tag: "PayloadTooLarge", limitBytes: 1_048_576 })
      expect(big.ms).toBeLessThan(5_000)
      // Unauthenticated: 401 whatever the body, before it.
      const anonymous = yield* announcingHugeBody(p, "/subscriptions", {})
      expect(anonymous.status).toBe(401)
      // A body where the endpoint takes none.
      const paused = yield* raw(p, {
        method: "POST",
        path: "/subscriptions/1/pause",
        headers: json,
        body: "{}"
      })
      expect(paused.status).toBe(413)
      expect(paused.text).toContain("takes no request body")
      // Chunked, without a declared length.
      const chunked = yield* Effect.promise(
        () =>
          new Promise<number>((resolve, reject) => {
            const req = request(
              { host: "127.0.0.1", port: p, method: "POST", path: "/subscriptions", headers: json },
              (res) => {
                res.resume()
                resolve(res.statusCode ?? 0)
              }
            )
            req.on("error", reject)
            req.write(subscription)
            req.end()
          })
      )
      expect(chunked).toBe(411)
      for (const type of [
        "application/x-www-form-urlencoded",
        "text/plain",
        "multipart/form-data; boundary=x",
        "application/jsonx",
        undefined
      ]) {
        const headers: Record<string, string> = { ...admin }
        if (type !== undefined) headers["content-type"] = type
        const refused = yield* raw(p, {
          method: "POST",
          path: "/subscriptions",
          headers,
          body: subscription
        })
        expect(refused.status, String(type)).toBe(415)
        expect(JSON.parse(refused.text)).toMatchObject({
          _tag: "UnsupportedMediaType",
          accepted: ["application/json"]
        })
      }
      const accepted = yield* raw(p, {
        method: "POST",
        path: "/subscriptions",
        headers: { ...admin, "content-type": "Application/JSON; charset=utf-8" },
        body: subscription
      })
      expect(accepted.status).toBe(404)
      expect(JSON.parse(accepted.text)).toMatchObject({ _tag: "NotFound" })
    })
  )

  it.effect("every endpoint taking a body answers 415 at once to an undocumented type, empty or not", () =>
    Effect.gen(function* () {
      yield* ready
      const { routes, wrong } = yield* UndocumentedBodies.probe(DataHubApi)
      expect(routes).toBeGreaterThanOrEqual(3)
      expect(wrong).toEqual([])
    })
  )

  it.effect("malformed and deeply nested JSON get 400 with a reason, not 500", () =>
    Effect.gen(function* () {
      yield* ready
      const p = yield* port
      for (const body of [
        "{",
        "{'a':1}",
        "[".repeat(100_000) + "]".repeat(100_000),
        `{"provider":${"[".repeat(10_000)}${"]".repeat(10_000)}}`,
        `{"timeframes":${'{"a":'.repeat(5_000)}1${"}".repeat(5_000)}}`,
        "",
        "\u0000"
      ]) {
        const res = yield* raw(p, { method: "POST", path: "/subscriptions", headers: json, body })
        expect(res.status, body.slice(0, 20)).toBe(400)
        const error = JSON.parse(res.text) as { _tag: string; message: string }
        expect(error.message.length).toBeLessThan(300)
      }
    })
  )

  it.effect("ids beyond 2³¹−1 and other non-ids are 400; validation messages name the field, briefly", () =>
    Effect.gen(function* () {
      yield* ready
      const p = yield* port
      for (const id of ["2147483648", "99999999999999999999", "1e10", "0", "-1", "1.5", "abc", "NaN"])
        for (const [method, suffix] of [
          ["GET", ""],
          ["GET", "/coverage"],
          ["POST", "/pause"],
          ["POST", "/resume"],
          ["DELETE", ""]
        ] as const) {
          const res = yield* raw(p, { method, path: `/subscriptions/${id}${suffix}`, headers: admin })
          expect(res.status, `${method} ${id}${suffix}`).toBe(400)
          const error = JSON.parse(res.text) as { _tag: string; message: string }
          expect(error._tag).toBe("HttpApiDecodeError")
          expect(error.message).toMatch(/^id: /)
          expect(error.message).not.toMatch(/readonly|└─/)
        }
      expect((yield* raw(p, { method: "GET", path: "/subscriptions/2147483647" })).status).toBe(404)
      const invalid = yield* raw(p, {
        method: "POST",
        path: "/subscriptions",
        headers: json,
        body: JSON.stringify({ provider: "Not A Name", timeframes: ["1m"], mode: "sometimes" })
      })
      expect(invalid.status).toBe(400)
      const { message } = JSON.parse(invalid.text) as { message: string }
      expect(message).toMatch(/^provider: /)
      expect(message.length).toBeLessThan(300)
      expect(message).not.toMatch(/readonly|└─/)
    })
  )
})
