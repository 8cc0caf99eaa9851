/**
 * The one SQL client layer. The pool is created without a startup probe so that a service comes
 * up while the database is down (health answers 503) and recovers by itself when it returns.
 * The same pool serves `BulkCopy` (COPY FROM STDIN) where the server supports it.
 */
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, Redacted } from "effect"
import Pg from "pg"
import * as BulkCopy from "./BulkCopy"
import { DatabaseUrl } from "./DatabaseUrl"

// COUNT(*) and other int8 values arrive as strings by default; every count we keep fits a double.
Pg.types.setTypeParser(Pg.types.builtins.INT8, (v) => Number(v))

export const layer = (options: { readonly poolSize: number; readonly applicationName: string }) =>
  Layer.unwrapScoped(
    Effect.gen(function* () {
      const { url, embedded } = yield* DatabaseUrl
      const pool = yield* Effect.acquireRelease(
        Effect.sync(() => {
          const pool = new Pg.Pool({
            connectionString: Redacted.value(url),
            // All embedded connections share one PGlite backend; more would only queue.
            max: embedded ? Math.min(options.poolSize, 4) : options.poolSize,
            connectionTimeoutMillis: 5_000,
            idleTimeoutMillis: 30_000,
            application_name: options.applicationName
          })
          // An idle client losing its connection must not crash the process; the next query reconnects.
          pool.on("error", () => undefined)
          return pool
        }),
        (pool) => Effect.promise(() => pool.end()).pipe(Effect.timeoutOption("2 seconds"))
      )
      return Layer.merge(
        PgClient.layerFromPool({ applicationName: options.applicationName, acquire: Effect.succeed(pool) }),
        BulkCopy.fromPool(pool, { available: !embedded })
      )
    })
  )
