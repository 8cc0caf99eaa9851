/**
 * Brings the database schema up to date in the background and remembers the outcome. The
 * service starts serving at once (health says 503 until this is done) and keeps retrying while
 * the database is unreachable, so start order between database and services never matters.
 */
import type { SqlClient } from "@effect/sql"
import { Context, Deferred, Effect, Layer, Ref, Schedule } from "effect"
import { type MigrateOptions, type Migration, type MigrationResult, migrate, sqlClientDb } from "./Migrator"

export class SchemaState extends Context.Tag("@quasar/server/SchemaState")<
  SchemaState,
  {
    readonly known: number
    /** The last successful migration run, if any yet. */
    readonly current: Effect.Effect<MigrationResult | null>
    /** Waits until the schema is up to date. */
    readonly ready: Effect.Effect<MigrationResult>
  }
>() {}

const retry = Schedule.exponential("200 millis", 2).pipe(
  Schedule.union(Schedule.spaced("5 seconds")),
  Schedule.jittered
)

/** `options.schema`: the service's own PostgreSQL schema, for a service whose migrations live there. */
export const layer = (
  migrations: ReadonlyArray<Migration>,
  options: MigrateOptions = {}
): Layer.Layer<SchemaState, never, SqlClient.SqlClient> =>
  Layer.scoped(
    SchemaState,
    Effect.gen(function* () {
      const state = yield* Ref.make<MigrationResult | null>(null)
      const done = yield* Deferred.make<MigrationResult>()
      const db = yield* sqlClientDb
      yield* migrate(db, migrations, options).pipe(
        Effect.tapError((e) =>
          Effect.logWarning("migrations could not run yet; retrying", { error: e.message })
        ),
        Effect.retry(retry),
        Effect.tap((result) =>
          Effect.logInfo("database schema up to date").pipe(
            Effect.annotateLogs({
              version: result.version,
              applied: result.applied,
              timescaledb: result.features.timescale?.version ?? null
            })
          )
        ),
        Effect.tap((result) => Ref.set(state, result)),
        Effect.flatMap((result) => Deferred.succeed(done, result)),
        Effect.forkScoped
      )
      return { known: migrations.length, current: Ref.get(state), ready: Deferred.await(done) }
    })
  )
