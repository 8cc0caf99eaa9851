/**
 * The Registry's and DataHub's migrations on real PostgreSQL, each in its own schema: tables and
 * keys, idempotence, concurrent migrators serialised by the advisory lock, the plain-PostgreSQL
 * variant and its BRIN indexes. (When
 * TEST_DATABASE_URL points at a server with TimescaleDB preloaded, the variant checks follow
 * what was detected; migrations.timescale.test.ts covers that branch in depth.)
 */
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { DATAHUB_SCHEMA, datahubMigrations } from "@quasar/migrations/datahub"
import { REGISTRY_SCHEMA, registryMigrations } from "@quasar/migrations/registry"
import {
  Database,
  DatabaseUrl,
  type Migration,
  type MigrationResult,
  migrate,
  sqlClientDb
} from "@quasar/server"
import { TestDatabase } from "@quasar/server/testing"
import { Effect, Layer, Redacted } from "effect"

/** DataHub's list is the one with the bar tables; the Registry's runs beside it. */
const migrations = datahubMigrations
const options = { schema: DATAHUB_SCHEMA }
const ordered = [...migrations].sort((a, b) => a.id - b.id)
const allApplied = ordered.map((m) => `${m.id}_${m.name}`)
const latest = Math.max(...migrations.map((m) => m.id))

const registryTables = ["asset_mapping", "assets", "change_events", "code_registry", "provider_settings"]
const datahubTables = [
  "change_events",
  "collection_empty_ranges",
  "collection_runs",
  "historical_data",
  "live_data",
  "provider_owners",
  "provider_subscription"
]

const pool = (applicationName: string) => Database.layer({ poolSize: 4, applicationName })

/** Migrates through a pool of its own, as a separate service process would. */
const migrateWithOwnPool = (url: string, name: string) =>
  Effect.flatMap(sqlClientDb, (db) => migrate(db, migrations, options)).pipe(
    Effect.provide(pool(name).pipe(Layer.provide(DatabaseUrl.layer(Redacted.make(url)))))
  )

const migrated = Effect.flatMap(sqlClientDb, (db) =>
  Effect.zipLeft(
    migrate(db, migrations, options),
    migrate(db, registryMigrations, { schema: REGISTRY_SCHEMA })
  )
)

const Live = pool("quasar-test-migrations").pipe(Layer.provideMerge(TestDatabase.layer))

layer(Live, { timeout: 90_000 })("migrations on PostgreSQL", (it) => {
  it.effect("the first run applies every migration in order; a second run is a no-op", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const first = yield* migrated
      expect(first.applied).toEqual(allApplied)
      expect(first.version).toBe(latest)
      expect(first.features.pgVersion).toBeGreaterThanOrEqual(140_000)

      const snapshot = sql<{
        id: number
        applied_at: Date
      }>`SELECT id, applied_at FROM datahub.schema_migrations ORDER BY id`
      const before = yield* snapshot
      const second = yield* migrated
      expect(second.applied).toEqual([])
      expect(second.version).toBe(latest)
      expect(yield* snapshot).toEqual(before)
    })
  )

  it.effect("records each migration once, as the postgresql variant", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const { features } = yield* migrated
      const [timescale] = yield* sql<{
        n: number
      }>`SELECT count(*) AS n FROM pg_extension WHERE extname = 'timescaledb'`
      expect(features.timescale === null).toBe(timescale?.n === 0)
      const variant = features.timescale ? "timescaledb" : "postgresql"
      expect(yield* sql`SELECT id, name, variant FROM datahub.schema_migrations ORDER BY id`).toEqual(
        ordered.map((m) => ({ id: m.id, name: m.name, variant }))
      )
      const [available] = yield* sql<{ n: number }>`
        SELECT count(*) AS n FROM pg_available_extensions WHERE name = 'timescaledb'`
      // Without the TimescaleDB package on the server (as on this machine) it must be the plain variant.
      if (available?.n === 0) expect(variant).toBe("postgresql")
    })
  )

  it.effect("creates each service's tables and schema_migrations in its schema, none in public", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* migrated
      const tablesOf = (schema: string) =>
        sql<{ table_name: string }>`
          SELECT table_name FROM information_schema.tables
          WHERE table_schema = ${schema} AND table_type = 'BASE TABLE' ORDER BY table_name`.pipe(
          Effect.map((rows) => rows.map((r) => r.table_name))
        )
      expect(yield* tablesOf("registry")).toEqual([...registryTables, "schema_migrations"].sort())
      expect(yield* tablesOf("datahub")).toEqual([...datahubTables, "schema_migrations"].sort())
      expect(yield* tablesOf("public")).toEqual([])
    })
  )

  it.effect("has the expected primary keys and unique constraints", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* migrated
      const keys = yield* sql<{ table_name: string; kind: string; columns: string }>`
        SELECT tc.table_schema || '.' || tc.table_name AS table_name, tc.constraint_type AS kind,
               string_agg(kcu.column_name, ',' ORDER BY kcu.ordinal_position) AS columns
        FROM information_schema.table_constraints tc
        JOIN information_schema.key_column_usage kcu
          ON kcu.constraint_schema = tc.constraint_schema AND kcu.constraint_name = tc.constraint_name
         AND kcu.table_name = tc.table_name
        WHERE tc.table_schema IN ('registry', 'datahub') AND tc.constraint_type IN ('PRIMARY KEY', 'UNIQUE')
          AND tc.table_name NOT LIKE 'collection%'
        GROUP BY tc.table_schema, tc.table_name, tc.constraint_name, tc.constraint_type
        ORDER BY 1, tc.constraint_type, columns`
      expect(keys).toEqual([
        { table_name: "datahub.change_events", kind: "PRIMARY KEY", columns: "id" },
        {
          table_name: "datahub.historical_data",
          kind: "PRIMARY KEY",
          columns: "provider,symbol,timeframe,ts"
        },
        { table_name: "datahub.live_data", kind: "PRIMARY KEY", columns: "provider,symbol,timeframe,ts" },
        { table_name: "datahub.provider_owners", kind: "PRIMARY KEY", columns: "provider" },
        { table_name: "datahub.provider_subscription", kind: "PRIMARY KEY", columns: "id" },
        { table_name: "datahub.provider_subscription", kind: "UNIQUE", columns: "provider,symbol,timeframe" },
        { table_name: "datahub.schema_migrations", kind: "PRIMARY KEY", columns: "id" },
        { table_name: "registry.asset_mapping", kind: "PRIMARY KEY", columns: "source,symbol" },
        { table_name: "registry.asset_mapping", kind: "UNIQUE", columns: "common_symbol,source" },
        { table_name: "registry.assets", kind: "PRIMARY KEY", columns: "provider,symbol" },
        { table_name: "registry.change_events", kind: "PRIMARY KEY", columns: "id" },
        { table_name: "registry.code_registry", kind: "PRIMARY KEY", columns: "name,version" },
        { table_name: "registry.code_registry", kind: "UNIQUE", columns: "name,sha256" },
        { table_name: "registry.provider_settings", kind: "PRIMARY KEY", columns: "name" },
        { table_name: "registry.schema_migrations", kind: "PRIMARY KEY", columns: "id" }
      ])
      // The same keys as unique indexes, as the planner sees them.
      const unique = yield* sql<{ tablename: string; indexdef: string }>`
        SELECT tablename, indexdef FROM pg_indexes
        WHERE schemaname = 'datahub' AND tablename IN ('historical_data', 'live_data') AND indexdef LIKE 'CREATE UNIQUE%'
        ORDER BY tablename`
      expect(unique.map((r) => [r.tablename, r.indexdef.replace(/^.* USING btree /, "")])).toEqual([
        ["historical_data", "(provider, symbol, timeframe, ts)"],
        ["live_data", "(provider, symbol, timeframe, ts)"]
      ])
    })
  )

  it.effect("indexes ts with BRIN on both bar tables (the plain-PostgreSQL variant)", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const { features } = yield* migrated
      if (features.timescale) {
        // Hypertables instead: chunks are the range index.
        expect(
          yield* sql`SELECT hypertable_name FROM timescaledb_information.hypertables ORDER BY 1`
        ).toEqual([{ hypertable_name: "historical_data" }, { hypertable_name: "live_data" }])
        return
      }
      expect(
        yield* sql`
          SELECT tablename, indexname FROM pg_indexes
          WHERE schemaname = 'datahub' AND indexdef ILIKE '%USING brin (ts)%' ORDER BY tablename`
      ).toEqual([
        { tablename: "historical_data", indexname: "historical_data_ts_brin" },
        { tablename: "live_data", indexname: "live_data_ts_brin" }
      ])
    })
  )

  it.effect("upserts on (provider, symbol, timeframe, ts) are idempotent", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* migrated
      const ts = new Date("2024-02-29T00:00:00Z")
      const upsert = (
        table: "datahub.historical_data" | "datahub.live_data",
        timeframe: string,
        close: number
      ) =>
        sql`
          INSERT INTO ${sql(table)} (provider, symbol, timeframe, ts, open, high, low, close, volume)
          VALUES ('kraken', 'BTC/USD', ${timeframe}, ${ts}, 100, 110, 90, ${close}, 5)
          ON CONFLICT (provider, symbol, timeframe, ts)
          DO UPDATE SET close = excluded.close, volume = excluded.volume, ingested_at = now()`
      for (const table of ["datahub.historical_data", "datahub.live_data"] as const) {
        yield* upsert(table, "1d", 101)
        yield* upsert(table, "1d", 101)
        yield* upsert(table, "1d", 105.25)
        yield* upsert(table, "1h", 99) // another timeframe is another bar
        const stored = yield* sql<{ timeframe: string; ts: Date; close: number; volume: number }>`
          SELECT timeframe, ts, close, volume FROM ${sql(table)} WHERE provider = 'kraken' ORDER BY timeframe`
        expect(stored).toEqual([
          { timeframe: "1d", ts, close: 105.25, volume: 5 },
          { timeframe: "1h", ts, close: 99, volume: 5 }
        ])
      }
      // A plain insert of an existing key is refused: the primary key really is the bar identity.
      const duplicate = yield* sql`
        INSERT INTO datahub.historical_data (provider, symbol, timeframe, ts, open, high, low, close, volume)
        VALUES ('kraken', 'BTC/USD', '1d', ${ts}, 1, 1, 1, 1, 1)`.pipe(Effect.flip)
      expect(String(duplicate.cause)).toMatch(/duplicate key/)
    })
  )

  it.scoped("concurrent migrators on a fresh database all succeed and record each migration once", () =>
    Effect.gen(function* () {
      const url = yield* TestDatabase.fresh
      const results: ReadonlyArray<MigrationResult> = yield* Effect.all(
        [1, 2, 3, 4].map((i) => migrateWithOwnPool(url, `quasar-test-migrator-${i}`)),
        { concurrency: "unbounded" }
      )
      // Exactly one of them did the work; the others waited for the lock and found nothing to do.
      expect(results.map((r) => r.applied.length).sort()).toEqual([0, 0, 0, allApplied.length])
      expect(results.flatMap((r) => r.applied)).toEqual(allApplied)
      for (const r of results) expect(r.version).toBe(latest)
      const recorded = yield* Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        return yield* sql<{
          id: number
          n: number
        }>`SELECT id, count(*) AS n FROM datahub.schema_migrations GROUP BY id ORDER BY id`
      }).pipe(
        Effect.provide(pool("quasar-test-check").pipe(Layer.provide(DatabaseUrl.layer(Redacted.make(url)))))
      )
      expect(recorded).toEqual(ordered.map((m) => ({ id: m.id, n: 1 })))
    })
  )
  it.scoped("a failing migration rolls the whole run back and names the server's reason", () =>
    Effect.gen(function* () {
      const url = yield* TestDatabase.fresh
      const broken: Migration = {
        id: latest + 1,
        name: "broken",
        up: ({ exec }) =>
          Effect.andThen(exec("CREATE TABLE half_done (x integer)"), exec("SELECT x FROM no_such_table"))
      }
      const inFreshDb = <A, E>(effect: Effect.Effect<A, E, SqlClient.SqlClient>) =>
        effect.pipe(
          Effect.provide(
            pool("quasar-test-broken").pipe(Layer.provide(DatabaseUrl.layer(Redacted.make(url))))
          )
        )
      const error = yield* inFreshDb(
        Effect.flatMap(sqlClientDb, (db) => migrate(db, [...migrations, broken], options))
      ).pipe(Effect.flip)
      expect(error._tag).toBe("MigrationError")
      expect(error.message).toMatch(/relation "no_such_table" does not exist/)
      expect(error.message).toContain("(in: SELECT x FROM no_such_table)")
      // One transaction: nothing of this run is left behind, not even the schema.
      const left = yield* inFreshDb(
        Effect.flatMap(
          SqlClient.SqlClient,
          (sql) => sql<{ table_name: string }>`
            SELECT table_name FROM information_schema.tables WHERE table_schema IN ('public', 'datahub')
            UNION ALL SELECT nspname FROM pg_namespace WHERE nspname = 'datahub'`
        )
      )
      expect(left).toEqual([])
      // The next run (with the migration fixed) starts from scratch and succeeds.
      const fixed = yield* inFreshDb(Effect.flatMap(sqlClientDb, (db) => migrate(db, migrations, options)))
      expect(fixed.applied).toEqual(allApplied)
    })
  )
})
