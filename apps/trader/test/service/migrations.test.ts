import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { migrations } from "@quasar/migrations"
import { TRADER_SCHEMA, traderMigrations } from "@quasar/migrations/trader"
import { Database, migrate, sqlClientDb } from "@quasar/server"
import { TestDatabase } from "@quasar/server/testing"
import { Effect, Layer } from "effect"

const Live = Database.layer({ poolSize: 4, applicationName: "quasar-test-trader-migrations" }).pipe(
  Layer.provideMerge(TestDatabase.layer)
)

layer(Live, { timeout: 60_000 })("Trader's migrations", (it) => {
  it.effect("live in Trader's own schema, with their own ids, beside the other services' migrations", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const db = yield* sqlClientDb
      const trader = yield* migrate(db, traderMigrations, { schema: TRADER_SCHEMA })
      expect(trader).toMatchObject({ version: 1, applied: ["1_backtests"] })
      const core = yield* migrate(db, migrations)
      expect(core.applied.length).toBe(migrations.length)
      expect((yield* migrate(db, traderMigrations, { schema: TRADER_SCHEMA })).applied).toEqual([])

      const tables = yield* sql<{ schema: string; name: string }>`
        SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
        WHERE table_schema = 'trader' ORDER BY table_name`
      expect(tables.map((t) => t.name)).toEqual(["backtest_results", "backtests", "schema_migrations"])
      const traderIds = yield* sql<{ id: number }>`SELECT id FROM trader.schema_migrations`
      expect(traderIds.map((r) => r.id)).toEqual([1])
      const coreIds = yield* sql<{ id: number }>`SELECT id FROM public.schema_migrations ORDER BY id`
      expect(coreIds.map((r) => r.id)).toEqual(migrations.map((m) => m.id).sort((a, b) => a - b))
      // The search path of the migrating transaction does not outlive it.
      const [path] = yield* sql<{ search_path: string }>`SELECT current_setting('search_path') AS search_path`
      expect(path?.search_path).not.toContain("trader")
    })
  )
})
