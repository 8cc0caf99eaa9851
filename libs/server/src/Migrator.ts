/**
 * Runs the migrations in `migrations/` once per database: inside one transaction holding an
 * advisory lock, so two services starting at once never race. TimescaleDB is detected, never
 * assumed: it is used when already installed, or when installable *and* preloaded (creating it
 * without preload makes the server drop the connection — timescale/timescaledb#550).
 */
import { SqlClient } from "@effect/sql"
import { Effect, Schema } from "effect"

export class MigrationError extends Schema.TaggedError<MigrationError>()("MigrationError", {
  message: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {}

export interface TimescaleFeatures {
  readonly version: string
  /** `apache` builds have hypertables but no compression or continuous aggregates. */
  readonly license: string
}

export interface DbFeatures {
  readonly pgVersion: number
  readonly timescale: TimescaleFeatures | null
}

/** What a migration may do: run statements, knowing which database it is on. */
export interface MigrationContext {
  readonly features: DbFeatures
  readonly exec: (statement: string) => Effect.Effect<void, MigrationError>
}

export interface Migration {
  readonly id: number
  readonly name: string
  readonly up: (ctx: MigrationContext) => Effect.Effect<void, MigrationError>
}

/** The few operations the migrator needs; implemented over `SqlClient` and, in tests, PGlite. */
export interface MigrationDb {
  readonly exec: (statement: string) => Effect.Effect<void, MigrationError>
  readonly query: <A extends object>(statement: string) => Effect.Effect<ReadonlyArray<A>, MigrationError>
  readonly transaction: <A, E>(effect: Effect.Effect<A, E>) => Effect.Effect<A, E | MigrationError>
}

export interface MigrationResult {
  readonly version: number
  readonly applied: ReadonlyArray<string>
  readonly features: DbFeatures
}

const LOCK_KEY = 7_461_982_301

/**
 * The messages along an error's cause chain: `SqlError` only says "Failed to execute statement"
 * and keeps the server's reason (e.g. `relation "x" does not exist`) in its `cause`.
 */
const reason = (cause: unknown): string => {
  const messages: Array<string> = []
  for (let cur: unknown = cause; cur !== undefined && cur !== null && messages.length < 3; ) {
    const message = cur instanceof Error ? cur.message : String(cur)
    if (message !== "" && !messages.includes(message)) messages.push(message)
    cur = cur instanceof Error ? cur.cause : undefined
  }
  return messages.join(": ") || String(cause)
}

const fail = (statement: string) => (cause: unknown) =>
  new MigrationError({ message: `${reason(cause)} (in: ${statement.trim().slice(0, 120)})`, cause })

/** The migrator's view of the service's `SqlClient` (statements run in the caller's transaction). */
export const sqlClientDb = Effect.map(
  SqlClient.SqlClient,
  (sql): MigrationDb => ({
    exec: (statement) => sql.unsafe(statement).pipe(Effect.asVoid, Effect.mapError(fail(statement))),
    query: <A extends object>(statement: string) =>
      sql.unsafe<A>(statement).pipe(Effect.mapError(fail(statement))),
    // Statements map their own errors; what remains is connecting, BEGIN or COMMIT.
    transaction: (effect) =>
      sql
        .withTransaction(effect)
        .pipe(Effect.catchTag("SqlError", fail("transaction (connect, BEGIN or COMMIT)")))
  })
)

/**
 * Detects PostgreSQL's version and TimescaleDB, creating the extension when that is safe. The
 * preload list is read from `pg_settings`, which leaves it out for a role that may not see it
 * (`current_setting` refuses instead): such a role could not create the extension anyway.
 */
export const detectFeatures = (db: MigrationDb) =>
  Effect.gen(function* () {
    const [probe] = yield* db.query<{
      installed: string | null
      available: string | null
      preload: string
      pg_version: number | string
    }>(`SELECT (SELECT extversion FROM pg_extension WHERE extname = 'timescaledb') AS installed,
               (SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb') AS available,
               coalesce((SELECT setting FROM pg_settings WHERE name = 'shared_preload_libraries'), '') AS preload,
               current_setting('server_version_num')::int AS pg_version`)
    const pgVersion = Number(probe?.pg_version ?? 0)
    let installed = probe?.installed ?? null
    if (!installed && probe?.available && /(^|,)\s*timescaledb\s*(,|$)/.test(probe.preload)) {
      yield* db.exec("CREATE EXTENSION IF NOT EXISTS timescaledb")
      installed = probe.available
    }
    if (!installed) return { pgVersion, timescale: null } satisfies DbFeatures
    const [lic] = yield* db.query<{ license: string | null }>(
      "SELECT current_setting('timescaledb.license', true) AS license"
    )
    return {
      pgVersion,
      timescale: { version: installed, license: lic?.license ?? "apache" }
    } satisfies DbFeatures
  })

export interface MigrateOptions {
  /**
   * A PostgreSQL schema of the service's own (`registry`, `datahub`, `trader`): created if
   * missing, and the migrations, their `schema_migrations` and their ids live in it, apart from
   * other services'.
   * Features are detected before the search path changes, so TimescaleDB, when created here,
   * lands where the services that use it look for it.
   */
  readonly schema?: string
}

/** Applies every pending migration in order; safe to call from several processes at once. */
export const migrate = (
  db: MigrationDb,
  migrations: ReadonlyArray<Migration>,
  options: MigrateOptions = {}
) =>
  db
    .transaction(
      Effect.gen(function* () {
        yield* db.query(`SELECT pg_advisory_xact_lock(${LOCK_KEY})`)
        const features = yield* detectFeatures(db)
        if (options.schema !== undefined) {
          const name = options.schema.replace(/'/g, "''")
          const schema = `"${options.schema.replace(/"/g, '""')}"`
          // A role that owns its schema but may not create schemas (CREATE on the database)
          // still migrates: CREATE SCHEMA checks that right before IF NOT EXISTS.
          const [exists] = yield* db.query(`SELECT 1 FROM pg_namespace WHERE nspname = '${name}'`)
          if (exists === undefined) yield* db.exec(`CREATE SCHEMA ${schema}`)
          // The service's schema first, the usual path behind it: extensions' functions and
          // operator classes (TimescaleDB, pg_trgm, in `public`) stay reachable unqualified.
          yield* db.exec(
            `SELECT set_config('search_path', '${schema.replace(/'/g, "''")}, ' || current_setting('search_path'), true)`
          )
        }
        yield* db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
          id integer PRIMARY KEY,
          name text NOT NULL,
          variant text NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now())`)
        const done = new Set(
          (yield* db.query<{ id: number }>("SELECT id FROM schema_migrations")).map((r) => Number(r.id))
        )
        const variant = features.timescale ? "timescaledb" : "postgresql"
        const applied: Array<string> = []
        for (const m of [...migrations].sort((a, b) => a.id - b.id)) {
          if (done.has(m.id)) continue
          yield* m
            .up({ features, exec: db.exec })
            .pipe(Effect.withSpan("migration", { attributes: { id: m.id } }))
          yield* db.exec(
            `INSERT INTO schema_migrations (id, name, variant) VALUES (${m.id}, '${m.name.replace(/'/g, "''")}', '${variant}')`
          )
          applied.push(`${m.id}_${m.name}`)
        }
        const version = Math.max(0, ...done, ...migrations.filter((m) => !done.has(m.id)).map((m) => m.id))
        return { version, applied, features } satisfies MigrationResult
      })
    )
    .pipe(Effect.withSpan("migrate"))
