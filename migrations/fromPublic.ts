/**
 * The first migration of a service that once kept its tables in `public` (before each service
 * got its own schema): moves each of them into the service's schema when it is still there, so
 * an existing database upgrades in place with every row, index, constraint, identity sequence
 * and (on TimescaleDB) chunk. On a new database there is nothing to move.
 *
 * TimescaleDB: `ALTER TABLE … SET SCHEMA` on a hypertable updates its catalogue entry and leaves
 * its chunks in `_timescaledb_internal` (timescale/timescaledb#117); continuous aggregates move
 * with `ALTER MATERIALIZED VIEW … SET SCHEMA`, listed among the clauses they support
 * (tigerdata.com/docs/reference/timescaledb/continuous-aggregates/alter_materialized_view),
 * their materialization hypertable staying in `_timescaledb_internal`. Aggregates, policies and
 * compression settings refer to the hypertable by id or OID, so none of them changes
 * (migrations/test/upgrade.timescale.test.ts moves a compressed hypertable and both aggregates
 * on TimescaleDB 2.23, built into PGlite; both statements are older than the 2.x line). A move
 * onto a name already taken in the target fails (and the migration with it) rather than
 * dropping either copy.
 */
import type { Migration } from "@quasar/server"
import { Effect } from "effect"

export interface Legacy {
  readonly tables: ReadonlyArray<string>
  /** Materialized views (TimescaleDB continuous aggregates): absent on plain PostgreSQL. */
  readonly views?: ReadonlyArray<string>
}

export const fromPublic = (schema: string, legacy: Legacy): Migration => ({
  id: 1,
  name: "from_public",
  up: ({ exec }) =>
    Effect.forEach(
      [
        ...legacy.tables.map((t) => `ALTER TABLE IF EXISTS public.${t} SET SCHEMA ${schema}`),
        ...(legacy.views ?? []).map(
          (v) => `ALTER MATERIALIZED VIEW IF EXISTS public.${v} SET SCHEMA ${schema}`
        )
      ],
      exec,
      { discard: true }
    )
})
