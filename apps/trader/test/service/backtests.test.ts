import { HttpClient, HttpClientRequest } from "@effect/platform"
import { expect, layer } from "@effect/vitest"
import { traderMigrations } from "@quasar/migrations/trader"
import { TestService } from "@quasar/server/testing"
import { DateTime, Effect } from "effect"
import { BacktestRunner } from "../../src/backtest/BacktestRunner"
import { runBacktest } from "../../src/engine/runBacktest"
import { smaCross } from "../engine/smaCross"
import {
  BARS,
  btcBars,
  defaultTrader,
  kraken,
  MINUTE,
  ready,
  request,
  smaModule,
  T0,
  traderClient
} from "./support"

layer(defaultTrader(), { timeout: 60_000 })("backtests through the API", (it) => {
  it.effect(
    "a full SMA-cross run completes, and its stored result equals the engine's for the same inputs",
    () =>
      Effect.gen(function* () {
        yield* ready
        const api = yield* traderClient()
        const runner = yield* BacktestRunner
        const accepted = yield* api.backtests.submit({ payload: request() })
        expect(accepted.status).toBe("queued")
        yield* runner.settled(accepted.id)

        const detail = yield* api.backtests.get({ path: { id: accepted.id } })
        expect(detail).toMatchObject({
          id: accepted.id,
          status: "completed",
          strategy: "sma-cross",
          version: 1,
          provider: "kraken",
          message: null,
          progress: {
            done: BARS - 100 + smaCross.warmup,
            total: BARS - 100 + smaCross.warmup,
            etaSeconds: null
          }
        })
        expect(detail.inputs).toMatchObject({
          codeSha256: smaModule.sha256,
          params: { fast: 5, slow: 20, fraction: 0.95 },
          universe: ["BTC/USD"],
          timeframe: "1m",
          from: T0 + 100 * MINUTE,
          to: T0 + BARS * MINUTE
        })

        // What the engine gives for the same inputs, the warm-up bars included.
        const from = T0 + 100 * MINUTE
        const all = btcBars()
        const start = 100 - smaCross.warmup
        const slice = (c: Float64Array) => c.slice(start)
        const direct = runBacktest({
          strategy: smaCross,
          codeSha256: smaModule.sha256,
          params: { fast: 5, slow: 20 },
          provider: kraken,
          from,
          to: T0 + BARS * MINUTE,
          initialCash: 10_000,
          fill: { feeBps: 10, slippageBps: 5 },
          bars: new Map([
            [
              "BTC/USD",
              {
                ts: slice(all.ts),
                open: slice(all.open),
                high: slice(all.high),
                low: slice(all.low),
                close: slice(all.close),
                volume: slice(all.volume)
              }
            ]
          ])
        })
        expect(direct.ok).toBe(true)
        if (!direct.ok) return
        expect(direct.result.fills.length).toBeGreaterThan(2)
        expect(detail.result).toEqual(direct.result)
        expect(detail.statistics).toEqual(direct.result.statistics)

        // The same request again gives the identical result (determinism), stored apart.
        const again = yield* api.backtests.submit({ payload: request() })
        yield* runner.settled(again.id)
        const second = yield* api.backtests.get({ path: { id: again.id } })
        expect(second.result).toEqual(detail.result)

        const listed = yield* api.backtests.list({ urlParams: { strategy: "sma-cross" } })
        expect(listed.map((s) => s.id)).toEqual([again.id, accepted.id])
        expect(listed[1]).toMatchObject({ status: "completed", statistics: direct.result.statistics })
        expect(yield* api.backtests.list({ urlParams: { status: "running" } })).toEqual([])

        // An ended run cannot be cancelled; it can be deleted, result and all.
        const cancel = yield* Effect.flip(api.backtests.cancel({ path: { id: accepted.id } }))
        expect(cancel._tag).toBe("Conflict")
        yield* api.backtests.remove({ path: { id: accepted.id } })
        const gone = yield* Effect.flip(api.backtests.get({ path: { id: accepted.id } }))
        expect(gone._tag).toBe("NotFound")
        expect((yield* Effect.flip(api.backtests.remove({ path: { id: accepted.id } })))._tag).toBe(
          "NotFound"
        )
      })
  )

  it.effect("an explicit version that is not the active one runs, and is recorded", () =>
    Effect.gen(function* () {
      yield* ready
      const api = yield* traderClient()
      const runner = yield* BacktestRunner
      const accepted = yield* api.backtests.submit({ payload: request({ version: 2 }) })
      yield* runner.settled(accepted.id)
      const detail = yield* api.backtests.get({ path: { id: accepted.id } })
      expect(detail).toMatchObject({ status: "completed", version: 2 })
      expect(detail.inputs?.codeSha256).not.toBe(smaModule.sha256)
    })
  )

  it.effect("a strategy that throws ends its run failed, saying where, with the result so far", () =>
    Effect.gen(function* () {
      yield* ready
      const api = yield* traderClient()
      const accepted = yield* api.backtests.submit({ payload: request({ strategy: "thrower", params: {} }) })
      yield* Effect.flatMap(BacktestRunner, (r) => r.settled(accepted.id))
      const detail = yield* api.backtests.get({ path: { id: accepted.id } })
      expect(detail.status).toBe("failed")
      expect(detail.message).toContain("the strategy failed at bar")
      expect(detail.message).toContain("boom")
      expect(detail.result?.failure).toMatchObject({
        ts: T0 + 500 * MINUTE,
        message: expect.stringContaining("boom")
      })
    })
  )

  it.effect("code the executor stops ends its run failed with the executor's reason, and no result", () =>
    Effect.gen(function* () {
      yield* ready
      const api = yield* traderClient()
      const accepted = yield* api.backtests.submit({ payload: request({ strategy: "unrunnable" }) })
      yield* Effect.flatMap(BacktestRunner, (r) => r.settled(accepted.id))
      const detail = yield* api.backtests.get({ path: { id: accepted.id } })
      expect(detail).toMatchObject({ status: "failed", result: null, statistics: null })
      expect(detail.message).toContain("no in-process strategy has code sha256")
    })
  )

  it.effect("health names Trader and its own migrations; the OpenAPI document lists the backtests API", () =>
    Effect.gen(function* () {
      yield* ready
      const api = yield* traderClient()
      const health = yield* api.health.health()
      expect(health).toMatchObject({
        service: "trader",
        status: "ok",
        migrations: { version: traderMigrations.length, pending: 0 }
      })
      const spec = yield* HttpClient.get("/openapi.json").pipe(
        Effect.flatMap((r) => r.json),
        Effect.scoped
      )
      expect(Object.keys((spec as { paths: object }).paths)).toEqual(
        expect.arrayContaining([
          "/backtests",
          "/backtests/{id}",
          "/backtests/{id}/cancel",
          "/deployments",
          "/deployments/{id}/kill",
          "/portfolio"
        ])
      )
      // Accepted, not done: 202 with the run's id.
      const accepted = yield* HttpClientRequest.post("/backtests").pipe(
        HttpClientRequest.bearerToken(TestService.ADMIN_TOKEN),
        HttpClientRequest.bodyUnsafeJson({
          strategy: "sma-cross",
          provider: "kraken",
          from: new Date(T0 + 100 * MINUTE).toISOString(),
          to: new Date(T0 + 200 * MINUTE).toISOString()
        }),
        HttpClient.execute,
        Effect.flatMap((r) => Effect.map(r.json, (body) => ({ status: r.status, body }))),
        Effect.scoped
      )
      expect(accepted).toMatchObject({ status: 202, body: { id: expect.any(Number), status: "queued" } })
    })
  )

  it.effect("bad input is a 4xx that says what to fix, and nothing is queued", () =>
    Effect.gen(function* () {
      yield* ready
      const api = yield* traderClient()
      const before = (yield* api.backtests.list({ urlParams: {} })).length
      const refused = (payload: ReturnType<typeof request>) => Effect.flip(api.backtests.submit({ payload }))

      const unknown = yield* refused(request({ strategy: "nope" }))
      expect(unknown).toMatchObject({ _tag: "NotFound", message: expect.stringContaining("nope") })
      const noVersion = yield* refused(request({ version: 9 }))
      expect(noVersion).toMatchObject({ _tag: "NotFound", message: expect.stringContaining("version 9") })

      const badParam = yield* refused(request({ params: { fast: 1.5 } }))
      expect(badParam).toMatchObject({ _tag: "InvalidRequest", field: "params" })
      expect(badParam.message).toContain("fast must be a whole number")
      const outOfRange = yield* refused(request({ params: { slow: 9_999 } }))
      expect(outOfRange.message).toContain("slow must be at most 500")
      const misspelt = yield* refused(request({ params: { fats: 5 } }))
      expect(misspelt.message).toContain('unknown parameter "fats"')

      const later = yield* refused(
        request({
          from: DateTime.unsafeMake(Date.UTC(2030, 0, 1)),
          to: DateTime.unsafeMake(Date.UTC(2030, 0, 2))
        })
      )
      expect(later).toMatchObject({ _tag: "InvalidRequest", field: "from" })
      expect(later.message).toContain("no 1m bars of kraken BTC/USD are stored")
      const otherProvider = yield* refused(request({ provider: "eodhd" as typeof kraken }))
      expect(otherProvider.message).toContain("no 1m bars of eodhd BTC/USD")

      const backwards = yield* refused(
        request({ from: DateTime.unsafeMake(T0 + 50 * MINUTE), to: DateTime.unsafeMake(T0) })
      )
      expect(backwards).toMatchObject({ _tag: "InvalidRequest", message: expect.stringContaining("before") })

      const anonymous = yield* traderClient(null)
      const unauthorized = yield* Effect.flip(anonymous.backtests.submit({ payload: request() }))
      expect(unauthorized._tag).toBe("Unauthorized")
      const wrong = yield* traderClient("wrong-token")
      expect((yield* Effect.flip(wrong.backtests.cancel({ path: { id: 1 as never } })))._tag).toBe(
        "Forbidden"
      )

      expect((yield* Effect.flip(api.backtests.get({ path: { id: 999_999 as never } })))._tag).toBe(
        "NotFound"
      )
      expect((yield* Effect.flip(api.backtests.cancel({ path: { id: 999_999 as never } })))._tag).toBe(
        "NotFound"
      )
      expect((yield* api.backtests.list({ urlParams: {} })).length).toBe(before)
    })
  )
})
