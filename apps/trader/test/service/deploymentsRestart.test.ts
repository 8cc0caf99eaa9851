import { expect, it } from "@effect/vitest"
import { DatabaseUrl } from "@quasar/server"
import { TestDatabase } from "@quasar/server/testing"
import { Effect, Layer, Redacted } from "effect"
import { DeploymentRunner } from "../../src/deploy/DeploymentRunner"
import { deployment, feed, trader } from "./deploymentsSupport"
import { ready, T0, traderClient } from "./support"

it.scoped(
  "a running deployment resumes after Trader restarts, and a bar seen again places no second order",
  () =>
    Effect.gen(function* () {
      const url = yield* TestDatabase.fresh
      const app = trader(Layer.succeed(DatabaseUrl, { url: Redacted.make(url), embedded: false }))

      // The first process: the strategy orders on bar 0, then Trader stops before it fills.
      const id = yield* Effect.scoped(
        Effect.gen(function* () {
          const context = yield* Layer.build(app)
          return yield* Effect.gen(function* () {
            yield* ready
            const api = yield* traderClient()
            const created = yield* api.deployments.create({ payload: deployment() })
            yield* api.deployments.start({ path: { id: created.id } })
            yield* feed(created.id, 1, 0, 100)
            expect(yield* api.deployments.orders({ path: { id: created.id }, urlParams: {} })).toHaveLength(1)
            return created.id
          }).pipe(Effect.provide(context))
        })
      )

      // The second process on the same database: the deployment runs again without being asked.
      const context = yield* Layer.build(app)
      yield* Effect.gen(function* () {
        yield* ready
        yield* Effect.flatMap(DeploymentRunner, (r) => r.resumed)
        const api = yield* traderClient()
        expect((yield* api.deployments.get({ path: { id } })).status).toBe("running")
        // Bar 0 again (a feed replays after a reconnect), then the bars after it.
        yield* feed(id, 1, 0, 100)
        yield* feed(id, 1, 1, 101)
        yield* feed(id, 1, 2, 103)
        const orders = yield* api.deployments.orders({ path: { id }, urlParams: {} })
        expect(orders.map((o) => [o.clientOrderId, o.status])).toEqual([[`${id}-${T0}-0`, "filled"]])
        const fills = yield* api.deployments.fills({ path: { id }, urlParams: {} })
        expect(fills).toHaveLength(1)
        const after = yield* api.deployments.get({ path: { id } })
        expect(after.positions).toMatchObject([
          { symbol: "BTC/USD", quantity: fills[0]!.quantity, lastPrice: 103 }
        ])
        expect(after.lastBarTs).toBe(T0 + 2 * 60_000)
      }).pipe(Effect.provide(context))
    })
)
