/**
 * The in-place upgrade on the embedded database `npm start` runs (PGlite, one database for every
 * service): a data directory from before each service had its own schema keeps every row.
 */

import { expect, layer } from "@effect/vitest"
import { PGlite } from "@electric-sql/pglite"
import { MigrationError, migrate } from "@quasar/server"
import { InProcessMigrationDb } from "@quasar/server/testing"
import { Context, Effect, Layer } from "effect"
import { DATAHUB_SCHEMA, datahubMigrations } from "../datahub"
import { legacyMigrations } from "../legacy"
import { REGISTRY_SCHEMA, registryMigrations } from "../registry"
import { TRADER_SCHEMA, traderMigrations } from "../trader"
import { fingerprint, legacySeed, seededTables } from "./seedLegacy"

class Embedded extends Context.Tag("test/Embedded")<Embedded, PGlite>() {}

const EmbeddedLive = Layer.scoped(
  Embedded,
  Effect.acquireRelease(
    Effect.promise(() => PGlite.create()),
    (pg) => Effect.promise(() => pg.close())
  )
)

const rows = <A extends object>(statement: string) =>
  Effect.flatMap(Embedded, (pg) =>
    Effect.tryPromise({
      try: () => pg.query<A>(statement),
      catch: (cause) =>
        new MigrationError({ message: `${String(cause)} (in: ${statement.slice(0, 120)})`, cause })
    })
  ).pipe(Effect.map((r) => r.rows))

const db = Effect.map(Embedded, (pg) => InProcessMigrationDb.make(pg))

const tables = (schema: (service: string) => string) =>
  Object.entries(seededTables).flatMap(([service, t]) =>
    Object.keys(t).map((name) => `${schema(service)}.${name}`)
  )

layer(EmbeddedLive, { timeout: 120_000 })("upgrade from the shared public layout (embedded PGlite)", (it) => {
  it.effect("every row of every table is in its service's schema after the first start", () =>
    Effect.gen(function* () {
      const session = yield* db
      yield* migrate(session, legacyMigrations)
      // Trader already had its schema then.
      yield* migrate(session, traderMigrations, { schema: TRADER_SCHEMA })
      yield* Effect.forEach(legacySeed, (statement) => rows(statement), { discard: true })
      const before = yield* Effect.forEach(
        tables(() => "public"),
        (t) => rows(fingerprint(t))
      )

      // The order the services happen to start in does not matter.
      yield* migrate(session, datahubMigrations, { schema: DATAHUB_SCHEMA })
      yield* migrate(session, registryMigrations, { schema: REGISTRY_SCHEMA })
      expect(
        yield* Effect.forEach(
          tables((service) => service),
          (t) => rows(fingerprint(t))
        )
      ).toEqual(before)
      expect(
        yield* rows("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
      ).toEqual([{ table_name: "schema_migrations" }])
      const [search] = yield* rows<{ path: string }>("SELECT current_setting('search_path') AS path")
      expect(search?.path).not.toMatch(/registry|datahub|trader/)
    })
  )
})
