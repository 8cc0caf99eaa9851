import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { DATAHUB_SCHEMA, datahubMigrations } from "@quasar/migrations/datahub"
import { REGISTRY_SCHEMA, registryMigrations } from "@quasar/migrations/registry"
import { TRADER_SCHEMA, traderMigrations } from "@quasar/migrations/trader"
import { Database, migrate, sqlClientDb } from "@quasar/server"
import { TestDatabase } from "@quasar/server/testing"
import { Effect, Layer } from "effect"

const Live = Database.layer({ poolSize: 4, applicationName: "quasar-test-trader-migrations" }).pipe(
  Layer.provideMerge(TestDatabase.layer)
)

layer(Live, { timeout: 60_000 })("Trader's migrations", (it) => {
  it.effect(
    "live in Trader's own schema, with their own ids, beside the other services' migrations in theirs",
    () =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const db = yield* sqlClientDb
        const trader = yield* migrate(db, traderMigrations, { schema: TRADER_SCHEMA })
        expect(trader).toMatchObject({
          version: traderMigrations.length,
          applied: traderMigrations.map((m) => `${m.id}_${m.name}`)
        })
        const registry = yield* migrate(db, registryMigrations, { schema: REGISTRY_SCHEMA })
        expect(registry.applied.length).toBe(registryMigrations.length)
        const datahub = yield* migrate(db, datahubMigrations, { schema: DATAHUB_SCHEMA })
        expect(datahub.applied.length).toBe(datahubMigrations.length)
        expect((yield* migrate(db, traderMigrations, { schema: TRADER_SCHEMA })).applied).toEqual([])

        const tables = yield* sql<{ schema: string; name: string }>`
        SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
        WHERE table_schema = 'trader' ORDER BY table_name`
        expect(tables.map((t) => t.name)).toEqual(
          expect.arrayContaining([
            "backtest_results",
            "backtests",
            "deployment_audit",
            "deployment_equity",
            "deployment_fills",
            "deployment_marks",
            "deployment_orders",
            "deployments",
            "schema_migrations"
          ])
        )
        const traderIds = yield* sql<{ id: number }>`SELECT id FROM trader.schema_migrations ORDER BY id`
        expect(traderIds.map((r) => r.id)).toEqual(traderMigrations.map((m) => m.id))
        // Results are compressed with lz4 where the server has it; elsewhere the equity bytes are
        // stored without pglz's attempt, which costs more than it saves.
        const [lz4] = yield* sql<{ available: boolean }>`
        SELECT 'lz4' = ANY (enumvals) AS available FROM pg_settings WHERE name = 'default_toast_compression'`
        const storage = yield* sql<{ name: string; storage: string; compression: string }>`
        SELECT attname AS name, attstorage AS storage, attcompression::text AS compression FROM pg_attribute
        WHERE attrelid = 'trader.backtest_results'::regclass
          AND attname IN ('result', 'equity_ts', 'equity', 'benchmark')
        ORDER BY attname`
        expect(storage).toEqual(
          lz4?.available
            ? ["benchmark", "equity", "equity_ts", "result"].map((name) => ({
                name,
                storage: "x",
                compression: "l"
              }))
            : [
                { name: "benchmark", storage: "e", compression: "" },
                { name: "equity", storage: "e", compression: "" },
                { name: "equity_ts", storage: "e", compression: "" },
                { name: "result", storage: "x", compression: "" }
              ]
        )
        const registryIds = yield* sql<{ id: number }>`SELECT id FROM registry.schema_migrations ORDER BY id`
        expect(registryIds.map((r) => r.id)).toEqual(registryMigrations.map((m) => m.id))
        const datahubIds = yield* sql<{ id: number }>`SELECT id FROM datahub.schema_migrations ORDER BY id`
        expect(datahubIds.map((r) => r.id)).toEqual(datahubMigrations.map((m) => m.id))
        // Nothing of any service is left in public.
        const inPublic =
          yield* sql`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`
        expect(inPublic).toEqual([])
        // The search path of the migrating transaction does not outlive it.
        const [path] = yield* sql<{
          search_path: string
        }>`SELECT current_setting('search_path') AS search_path`
        expect(path?.search_path).not.toMatch(/trader|registry|datahub/)
      })
  )
})
