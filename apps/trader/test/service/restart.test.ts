import { SqlClient } from "@effect/sql"
import { expect, it } from "@effect/vitest"
import { DatabaseUrl } from "@quasar/server"
import { TestDatabase } from "@quasar/server/testing"
import { Deferred, Effect, Layer, Redacted } from "effect"
import { BacktestRunner } from "../../src/backtest/BacktestRunner"
import { ready, request, traderClient, traderLayer } from "./support"

const leftover = (status: "queued" | "running") => (sql: SqlClient.SqlClient) =>
  Effect.map(
    sql<{ id: number }>`
      INSERT INTO trader.backtests (status, strategy, version, provider, from_ts, to_ts, params, initial_cash, inputs)
      VALUES (${status}, 'sma-cross', 1, 'kraken', now(), now(), '{}', 1000, '{}') RETURNING id`,
    (rows) => rows[0]!.id
  )

it.scoped(
  "a shutdown marks its runs interrupted, and a start marks runs a crashed process left unfinished interrupted",
  () =>
    Effect.gen(function* () {
      const url = yield* TestDatabase.fresh
      const database = Layer.succeed(DatabaseUrl, { url: Redacted.make(url), embedded: false })
      const started = yield* Deferred.make<void>()
      const trader = traderLayer({
        database,
        executor: {
          every: 100,
          pause: () => Effect.zipRight(Deferred.succeed(started, undefined), Effect.never)
        }
      })

      // The first process: one run holding mid-way, and rows as a crashed process would leave them.
      const { held, crashed } = yield* Effect.scoped(
        Effect.gen(function* () {
          const context = yield* Layer.build(trader)
          return yield* Effect.gen(function* () {
            yield* ready
            const api = yield* traderClient()
            const accepted = yield* api.backtests.submit({ payload: request() })
            yield* Deferred.await(started)
            expect((yield* api.backtests.get({ path: { id: accepted.id } })).status).toBe("running")
            const sql = yield* SqlClient.SqlClient
            const crashed = [yield* leftover("running")(sql), yield* leftover("queued")(sql)]
            return { held: accepted.id, crashed }
          }).pipe(Effect.provide(context))
        })
      )

      // The second process on the same database.
      const context = yield* Layer.build(trader)
      yield* Effect.gen(function* () {
        yield* ready
        yield* Effect.flatMap(BacktestRunner, (r) => r.recovered)
        const api = yield* traderClient()
        const stopped = yield* api.backtests.get({ path: { id: held } })
        expect(stopped).toMatchObject({
          status: "interrupted",
          message: expect.stringContaining("Trader shut down"),
          result: null
        })
        for (const id of crashed) {
          const run = yield* api.backtests.get({ path: { id: id as typeof held } })
          expect(run).toMatchObject({
            status: "interrupted",
            message: expect.stringContaining("Trader stopped")
          })
          expect(run.finishedAt).not.toBeNull()
        }
        expect(yield* api.backtests.list({ urlParams: { status: "running" } })).toEqual([])
        // A new run on the restarted service is not touched by the recovery.
        const fresh = yield* api.backtests.submit({ payload: request() })
        expect(["queued", "running"]).toContain((yield* api.backtests.get({ path: { id: fresh.id } })).status)
      }).pipe(Effect.provide(context))
    }),
  { timeout: 60_000 }
)
