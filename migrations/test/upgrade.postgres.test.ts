/**
 * A database of the layout before each service got its own schema (the shared list, every table
 * in `public`) upgrades in place on PostgreSQL: the Registry's and DataHub's first migrations move
 * their tables into `registry` and `datahub` with every row, key and identity sequence, whatever
 * legacy migration the database had reached.
 */
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Database, DatabaseUrl, migrate, sqlClientDb } from "@quasar/server"
import { TestDatabase } from "@quasar/server/testing"
import { Effect, Layer, Redacted } from "effect"
import { DATAHUB_SCHEMA, datahubMigrations } from "../datahub"
import { legacyMigrations } from "../legacy"
import { REGISTRY_SCHEMA, registryMigrations } from "../registry"
import { fingerprint, legacySeed, seededTables } from "./seedLegacy"

const Live = Database.layer({ poolSize: 4, applicationName: "quasar-test-upgrade" }).pipe(
  Layer.provideMerge(TestDatabase.layer)
)

const upgrade = Effect.flatMap(sqlClientDb, (db) =>
  Effect.all([
    migrate(db, registryMigrations, { schema: REGISTRY_SCHEMA }),
    migrate(db, datahubMigrations, { schema: DATAHUB_SCHEMA })
  ])
)

/** Every seeded table's fingerprint, in `public` (before) or in its service's schema (after). */
const fingerprints = (layout: "public" | "own") =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.forEach(
      Object.entries(seededTables).flatMap(([service, tables]) =>
        Object.keys(tables).map((table) => `${layout === "public" ? "public" : service}.${table}`)
      ),
      (table) => Effect.map(sql.unsafe<{ n: number; digest: string }>(fingerprint(table)), ([row]) => row)
    )
  )

layer(Live, { timeout: 90_000 })("upgrade from the shared public layout (PostgreSQL)", (it) => {
  it.effect("moves every row of every table into its service's schema; a second run does nothing", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* Effect.flatMap(sqlClientDb, (db) => migrate(db, legacyMigrations))
      yield* Effect.forEach(legacySeed, (statement) => sql.unsafe(statement), { discard: true })
      const before = yield* fingerprints("public")
      expect(before.map((f) => f?.n)).toEqual(Object.values(seededTables).flatMap((t) => Object.values(t)))

      const [registry, datahub] = yield* upgrade
      expect(registry.applied).toEqual(registryMigrations.map((m) => `${m.id}_${m.name}`))
      expect(datahub.applied).toEqual(datahubMigrations.map((m) => `${m.id}_${m.name}`))
      // Where each table is is where each service looks for it.
      const moved = Object.entries(seededTables).flatMap(([service, tables]) =>
        Object.keys(tables).map((table) => `${service}.${table}`)
      )
      expect(yield* Effect.forEach(moved, (t) => sql`SELECT ${t}::regclass::text AS t`)).toEqual(
        moved.map((t) => [{ t }])
      )
      expect(yield* fingerprints("own")).toEqual(before)
      // Only the legacy bookkeeping stays behind.
      expect(
        yield* sql`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`
      ).toEqual([{ table_name: "schema_migrations" }])

      // Identity sequences moved with their tables: new ids follow the old ones.
      const [sub] = yield* sql<{ id: number }>`
        INSERT INTO datahub.provider_subscription (provider, symbol, timeframe, mode)
        VALUES ('acme', 'S3', '1m', 'live') RETURNING id`
      expect(sub?.id).toBe(3)
      const [event] = yield* sql<{ id: string }>`
        INSERT INTO registry.change_events (channel, payload) VALUES ('code', '{}') RETURNING id`
      expect(Number(event?.id)).toBe(4)
      // The constraints came along too: the current version is still unique per name.
      const twoActive = yield* sql`
        INSERT INTO registry.code_registry (name, kind, version, sha256, source, size, status)
        VALUES ('acme', 'provider', 3, 'h4', 'x', 1, 'active')`.pipe(Effect.flip)
      expect(String(twoActive.cause)).toMatch(/code_registry_current_idx/)

      const again = yield* upgrade
      expect(again.flatMap((r) => r.applied)).toEqual([])
    })
  )

  it.scoped("a database that stopped at an older legacy migration gets every later column too", () =>
    Effect.gen(function* () {
      const url = yield* TestDatabase.fresh
      const inDb = <A, E>(effect: Effect.Effect<A, E, SqlClient.SqlClient>) =>
        effect.pipe(
          Effect.provide(
            Database.layer({ poolSize: 2, applicationName: "quasar-test-upgrade-old" }).pipe(
              Layer.provide(DatabaseUrl.layer(Redacted.make(url)))
            )
          )
        )
      yield* inDb(
        Effect.flatMap(sqlClientDb, (db) =>
          migrate(
            db,
            legacyMigrations.filter((m) => m.id <= 2)
          )
        )
      )
      yield* inDb(upgrade)
      const columns = yield* inDb(
        Effect.flatMap(
          SqlClient.SqlClient,
          (sql) => sql<{ c: string }>`
            SELECT table_schema || '.' || table_name || '.' || column_name AS c FROM information_schema.columns
            WHERE column_name IN ('language', 'built_in', 'collected_until', 'heartbeat_at') ORDER BY 1`
        )
      )
      expect(columns.map((r) => r.c)).toEqual([
        "datahub.collection_runs.heartbeat_at",
        "datahub.provider_subscription.collected_until",
        "registry.code_registry.built_in",
        "registry.code_registry.language"
      ])
      // Strategy code is admitted (legacy 0008's constraint).
      yield* inDb(
        Effect.flatMap(
          SqlClient.SqlClient,
          (sql) => sql`INSERT INTO registry.code_registry (name, kind, version, sha256, source, size)
            VALUES ('s', 'strategy', 1, 'h', 'x', 1)`
        )
      )
    })
  )
})
