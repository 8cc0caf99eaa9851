import { HttpClient, HttpClientRequest } from "@effect/platform"
import { expect, layer } from "@effect/vitest"
import type { DeploymentId } from "@quasar/domain"
import { TestService } from "@quasar/server/testing"
import { Effect, TestClock } from "effect"
import { deployment, feed, trader } from "./deploymentsSupport"
import { btcBars, MINUTE, ready, T0, traderClient } from "./support"

layer(trader(), { timeout: 60_000 })("deployments through the API", (it) => {
  it.effect(
    "a paper deployment fills its order on live bars; the position shows in the portfolio; kill flattens it",
    () =>
      Effect.gen(function* () {
        yield* ready
        const api = yield* traderClient()
        const created = yield* api.deployments.create({ payload: deployment() })
        expect(created).toMatchObject({
          status: "created",
          strategy: "buy-once",
          universe: ["BTC/USD"],
          cash: 10_000
        })
        expect((yield* api.deployments.start({ path: { id: created.id } })).status).toBe("running")

        yield* feed(created.id, 1, 0, 100)
        const [order] = yield* api.deployments.orders({ path: { id: created.id }, urlParams: {} })
        expect(order).toMatchObject({ clientOrderId: `${created.id}-${T0}-0`, side: "buy", status: "open" })
        yield* feed(created.id, 1, 1, 102)
        const fills = yield* api.deployments.fills({ path: { id: created.id }, urlParams: {} })
        expect(fills).toMatchObject([{ side: "buy", price: 102, ts: T0 + MINUTE }])

        const account = yield* api.portfolio.account({ path: { id: created.id } })
        expect(account.positions).toMatchObject([
          { symbol: "BTC/USD", quantity: fills[0]!.quantity, lastPrice: 102 }
        ])
        expect(account.fees).toBeCloseTo(fills[0]!.fee, 9)
        expect(account.equity - account.initialCash).toBeCloseTo(
          account.realizedPnl + account.unrealizedPnl,
          6
        )
        expect(account.exposure).toMatchObject([{ asset: "BTC" }])
        const all = yield* api.portfolio.all()
        expect(all.accounts.map((a) => a.deploymentId)).toContain(created.id)

        const killed = yield* api.deployments.kill({ path: { id: created.id } })
        expect(killed.status).toBe("flattening")
        yield* feed(created.id, 1, 2, 101)
        const after = yield* api.deployments.get({ path: { id: created.id } })
        expect(after).toMatchObject({ status: "killed", positions: [] })
        const audit = yield* api.deployments.audit({ path: { id: created.id }, urlParams: {} })
        expect(audit.map((a) => `${a.kind}:${a.decision}`)).toEqual(
          expect.arrayContaining([
            "risk:accepted",
            "order:placed",
            "risk:kill",
            "status:flattening",
            "status:killed"
          ])
        )
        const conflict = yield* Effect.flip(api.deployments.kill({ path: { id: created.id } }))
        expect(conflict._tag).toBe("Conflict")
      })
  )

  it.effect("a breach of the daily loss limit stops and flattens, with an audit entry", () =>
    Effect.gen(function* () {
      const api = yield* traderClient()
      const created = yield* api.deployments.create({
        payload: deployment({
          risk: { maxOrderNotional: 6_000, maxPositionNotional: 8_000, maxDailyLoss: 200 }
        })
      })
      yield* api.deployments.start({ path: { id: created.id } })
      yield* feed(created.id, 1, 10, 100)
      yield* feed(created.id, 1, 11, 100)
      yield* feed(created.id, 1, 12, 80)
      expect((yield* api.deployments.get({ path: { id: created.id } })).status).toBe("flattening")
      yield* feed(created.id, 1, 13, 80)
      const after = yield* api.deployments.get({ path: { id: created.id } })
      expect(after).toMatchObject({ status: "breached", positions: [] })
      expect(after.message).toContain("maxDailyLoss")
      const audit = yield* api.deployments.audit({ path: { id: created.id }, urlParams: {} })
      expect(audit.find((a) => a.decision === "breach")).toMatchObject({
        kind: "risk",
        message: expect.stringContaining("maxDailyLoss")
      })
      const orders = yield* api.deployments.orders({ path: { id: created.id }, urlParams: {} })
      expect(orders.map((o) => [o.side, o.status])).toEqual([
        ["buy", "filled"],
        ["sell", "filled"]
      ])
    })
  )

  it.effect(
    "stop keeps the position; the kill switch on a stopped deployment flattens it on the next bar",
    () =>
      Effect.gen(function* () {
        const api = yield* traderClient()
        const created = yield* api.deployments.create({ payload: deployment() })
        yield* api.deployments.start({ path: { id: created.id } })
        yield* feed(created.id, 1, 20, 100)
        yield* feed(created.id, 1, 21, 100)
        const stopped = yield* api.deployments.stop({ path: { id: created.id } })
        expect(stopped).toMatchObject({ status: "stopped", positions: [{ symbol: "BTC/USD" }] })
        expect((yield* api.deployments.kill({ path: { id: created.id } })).status).toBe("flattening")
        yield* feed(created.id, 1, 22, 99)
        expect(yield* api.deployments.get({ path: { id: created.id } })).toMatchObject({
          status: "killed",
          positions: []
        })
      })
  )

  it.effect("a deployment warms up on DataHub's stored bars before its first live bar", () =>
    Effect.gen(function* () {
      // Stored bars (support's series: BTC/USD from T0) up to now warm the strategy; none are traded.
      yield* TestClock.setTime(T0 + 100 * MINUTE)
      const api = yield* traderClient()
      const created = yield* api.deployments.create({ payload: deployment({ strategy: "warmed" }) })
      yield* api.deployments.start({ path: { id: created.id } })
      yield* feed(created.id, 1, 100, 100)
      const orders = yield* api.deployments.orders({ path: { id: created.id }, urlParams: {} })
      expect(orders).toMatchObject([{ clientOrderId: `${created.id}-${T0 + 100 * MINUTE}-0`, quantity: 1 }])
      yield* api.deployments.kill({ path: { id: created.id } })
      yield* feed(created.id, 1, 101, 100)
    })
  )

  it.effect("started again, a deployment's open order fills on the stored bars it missed while stopped", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(T0 + 200 * MINUTE)
      const api = yield* traderClient()
      const created = yield* api.deployments.create({ payload: deployment() })
      yield* api.deployments.start({ path: { id: created.id } })
      yield* feed(created.id, 1, 200, 100)
      yield* api.deployments.stop({ path: { id: created.id } })
      expect(yield* api.deployments.orders({ path: { id: created.id }, urlParams: {} })).toMatchObject([
        { status: "open" }
      ])

      yield* TestClock.setTime(T0 + 210 * MINUTE)
      yield* api.deployments.start({ path: { id: created.id } })
      yield* feed(created.id, 1, 210, 100)
      const fills = yield* api.deployments.fills({ path: { id: created.id }, urlParams: {} })
      expect(fills).toMatchObject([{ ts: T0 + 201 * MINUTE, price: btcBars().open[201] }])
      const orders = yield* api.deployments.orders({ path: { id: created.id }, urlParams: {} })
      expect(orders.map((o) => o.status)).toEqual(["filled"])
      expect((yield* api.deployments.get({ path: { id: created.id } })).lastBarTs).toBe(T0 + 210 * MINUTE)
      yield* api.deployments.kill({ path: { id: created.id } })
      yield* feed(created.id, 1, 211, 100)
    })
  )

  it.effect("bad input is a 4xx that says what to do", () =>
    Effect.gen(function* () {
      const api = yield* traderClient()
      const badParams = yield* Effect.flip(
        api.deployments.create({ payload: deployment({ strategy: "sma-cross", params: { fast: 1 } }) })
      )
      expect(badParams).toMatchObject({ _tag: "InvalidRequest", message: expect.stringContaining("fast") })
      const unknown = yield* Effect.flip(
        api.deployments.create({ payload: deployment({ strategy: "nope" }) })
      )
      expect(unknown._tag).toBe("NotFound")
      const quote = yield* Effect.flip(
        api.deployments.create({
          payload: deployment({
            account: { type: "paper", initialCash: 1_000, quote: "EUR", feeBps: 0, slippageBps: 0 }
          })
        })
      )
      expect(quote).toMatchObject({ _tag: "InvalidRequest", message: expect.stringContaining("EUR") })
      expect((yield* Effect.flip(api.deployments.get({ path: { id: 999_999 as DeploymentId } })))._tag).toBe(
        "NotFound"
      )
      const created = yield* api.deployments.create({ payload: deployment() })
      expect((yield* Effect.flip(api.deployments.stop({ path: { id: created.id } })))._tag).toBe("Conflict")

      // Through the test server's client (its base URL is the app's).
      const http = yield* HttpClient.HttpClient
      const post = (path: string, body: unknown) =>
        http.execute(
          HttpClientRequest.post(path).pipe(
            HttpClientRequest.bearerToken(TestService.ADMIN_TOKEN),
            HttpClientRequest.bodyUnsafeJson(body)
          )
        )
      for (const body of [
        {},
        { ...deployment(), risk: { maxOrderNotional: -1, maxPositionNotional: 1, maxDailyLoss: 1 } },
        { ...deployment(), account: { type: "margin" } },
        { ...deployment(), params: { fast: { nested: true } } }
      ]) {
        const response = yield* post("/deployments", body)
        expect(response.status).toBe(400)
        expect(yield* response.json).toMatchObject({ message: expect.any(String) })
      }
      const junkId = yield* http.get("/deployments/abc")
      expect(junkId.status).toBe(400)
    })
  )
})
