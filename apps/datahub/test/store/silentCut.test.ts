/**
 * Database connections that die silently (no FIN, no RST: a NAT or firewall forgot the flow) are
 * replaced: the service answers /health with 200 again within 30 s by itself, every connection
 * it hands out afterwards works, and no query is ever queued behind an unfinished one.
 */
import { HttpClient } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { SchemaState } from "@quasar/server"
import { ProxiedDatabase, TestService } from "@quasar/server/testing"
import { Clock, Effect, Layer, Logger, Schedule } from "effect"
import { DataHubAlone } from "../../src/testing/DataHubAlone"

/** A fresh database reached through a proxy the test can stall. */
const { proxied: ProxiedLive, databaseUrl: DatabaseUrlLive } = ProxiedDatabase.layers()

const health = Effect.flatMap(HttpClient.HttpClient, (http) => http.get("/health")).pipe(
  Effect.map((res) => res.status),
  Effect.timeout("10 seconds"),
  Effect.orElseSucceed(() => 0)
)

layer(
  TestService.layer(DataHubAlone, DatabaseUrlLive).pipe(
    Layer.provideMerge(ProxiedLive), // the same (memoised) proxy the service connects through
    Layer.provide(Logger.remove(Logger.defaultLogger))
  ),
  { timeout: 90_000, excludeTestServices: true }
)("datahub when its database connections die silently", (it) => {
  it.effect("recovers by itself within 30 s, without queueing a query behind an unfinished one", () =>
    Effect.gen(function* () {
      const { proxy } = yield* ProxiedDatabase.ProxiedDatabase
      yield* Effect.flatMap(SchemaState.SchemaState, (s) => s.ready)
      const warnings: Array<string> = []
      const onWarning = (w: Error) => warnings.push(w.message)
      process.on("warning", onWarning)
      yield* Effect.addFinalizer(() => Effect.sync(() => process.off("warning", onWarning)))

      // Every pooled connection open (and idle) before the cut.
      const sql = yield* SqlClient.SqlClient
      yield* Effect.all(
        Array.from({ length: 5 }, () => sql`SELECT pg_sleep(0.2)`),
        { concurrency: 5, discard: true }
      )
      expect(yield* health).toBe(200)

      yield* proxy.stall
      const cutAt = yield* Clock.currentTimeMillis
      // The first check meets a dead connection.
      expect(yield* health).toBe(503)
      yield* health.pipe(
        Effect.filterOrFail((status) => status === 200),
        Effect.retry(Schedule.spaced("200 millis")),
        Effect.timeoutFail({ duration: "30 seconds", onTimeout: () => new Error("no 200 within 30 s") })
      )
      const recoveredAfter = (yield* Clock.currentTimeMillis) - cutAt
      expect(recoveredAfter).toBeLessThan(30_000)
      // No dead connection is left to be handed out: many checks and queries in a row all work.
      for (let i = 0; i < 10; i++) expect(yield* health).toBe(200)
      const answers = yield* Effect.all(
        Array.from({ length: 5 }, () => sql<{ one: number }>`SELECT 1 AS one`),
        { concurrency: 5 }
      ).pipe(Effect.timeout("5 seconds"))
      expect(answers.map((rows) => rows[0]?.one)).toEqual([1, 1, 1, 1, 1])
      expect(warnings.filter((w) => w.includes("already executing a query"))).toEqual([])
    }).pipe(Effect.scoped)
  )
})
