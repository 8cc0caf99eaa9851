/**
 * A run cut off by a crash stays `running` in collection_runs; the next DataHub to start closes
 * it as `interrupted` (it stopped beating), while a run another live DataHub is doing (beating)
 * is left alone.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { syntheticProvider as synthetic } from "@quasar/providers/synthetic"
import { TestDatabase } from "@quasar/server/testing"
import { Effect, Layer } from "effect"
import { inProcessBarSource } from "../../src/testing/InProcessSources"
import { adminClient, collectingApp, eventually } from "./support"

const runStatuses = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) => sql<{ symbol: string; status: string; error: string | null }>`
    SELECT symbol, status, error FROM datahub.collection_runs ORDER BY id`
)

describe("runs cut off by a crash", () => {
  it.live(
    "are closed as interrupted on the next start; runs that still beat are not",
    () =>
      Effect.gen(function* () {
        const databaseUrl = yield* TestDatabase.fresh
        const app = () =>
          collectingApp({ databaseUrl, source: inProcessBarSource([synthetic], {}, Date.now) })
        // A first life: the schema exists, then two runs are left `running`, as a crash leaves them.
        yield* Effect.scoped(
          Effect.gen(function* () {
            const ctx = yield* Layer.build(app())
            yield* Effect.provide(adminClient, ctx)
            const sql = yield* Effect.provide(SqlClient.SqlClient, ctx)
            yield* sql`INSERT INTO datahub.collection_runs
              (provider, symbol, timeframe, kind, range_from, range_to, started_at, heartbeat_at) VALUES
              ('synthetic', 'CRASHED', '1m', 'backfill', now() - interval '1 day', now(),
               now() - interval '20 minutes', now() - interval '10 minutes'),
              ('synthetic', 'ALIVE', '1m', 'backfill', now() - interval '1 day', now(),
               now() - interval '20 minutes', now() + interval '1 hour')`
          })
        )
        yield* Effect.scoped(
          Effect.gen(function* () {
            const ctx = yield* Layer.build(app())
            const runs = yield* Effect.provide(
              eventually("the crashed run is closed", runStatuses, (rows) =>
                rows.some((r) => r.symbol === "CRASHED" && r.status === "interrupted")
              ),
              ctx
            )
            expect(runs.find((r) => r.symbol === "CRASHED")?.error).toContain("never finished")
            expect(runs.find((r) => r.symbol === "ALIVE")?.status).toBe("running")
          })
        )
      }).pipe(Effect.scoped),
    60_000
  )
})
