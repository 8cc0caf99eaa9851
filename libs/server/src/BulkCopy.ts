/**
 * `COPY … FROM STDIN` on the service's own pool, for the one path where it pays: appending rows
 * that are known to be new (the bar writer's backfill path). COPY inserts rows in multi-row
 * batches and skips the executor, so it stores several times more rows per second of database
 * CPU than any INSERT; it is one statement, so a failure (a duplicate key, 23505) stores nothing.
 *
 * Not offered on the embedded database (PGlite has no COPY FROM STDIN over its socket): callers
 * check `available` and use an INSERT instead.
 */
import { SqlError } from "@effect/sql"
import { Context, Effect, Layer } from "effect"
import type Pg from "pg"
import { from as copyFrom } from "pg-copy-streams"

export interface BulkCopyService {
  readonly available: boolean
  /** Runs `statement` (a `COPY … FROM STDIN`) with `data` as its input; the rows copied. */
  readonly copyIn: (statement: string, data: Uint8Array) => Effect.Effect<number, SqlError.SqlError>
}

export class BulkCopy extends Context.Tag("@quasar/server/BulkCopy")<BulkCopy, BulkCopyService>() {}

const failure = (cause: unknown) =>
  new SqlError.SqlError({ cause, message: cause instanceof Error ? cause.message : "COPY failed" })

const copyThrough = (pool: Pg.Pool, statement: string, data: Uint8Array) =>
  Effect.acquireUseRelease(
    Effect.tryPromise({ try: () => pool.connect(), catch: failure }).pipe(
      Effect.map((client) => {
        // A checked-out client whose connection dies emits "error" on itself, not on the
        // stream, and may do so more than once (the stream's write fails too): this listener
        // stays for the whole checkout, since an "error" with none takes the process down.
        const errors: { onError: (e: Error) => void } = { onError: () => undefined }
        const listener = (e: Error) => errors.onError(e)
        client.on("error", listener)
        return { client, errors, listener }
      })
    ),
    ({ client, errors }) =>
      Effect.async<number, SqlError.SqlError>((resume) => {
        let settled = false
        const settle = (result: Effect.Effect<number, SqlError.SqlError>) => {
          if (settled) return
          settled = true
          resume(result)
        }
        const lost = (e: Error) => settle(Effect.fail(failure(e)))
        errors.onError = lost
        const stream = client.query(copyFrom(statement))
        stream.on("error", lost)
        stream.on("finish", () => settle(Effect.succeed(stream.rowCount)))
        stream.end(data)
        return Effect.sync(() => {
          settled = true
        })
      }),
    // A connection whose COPY failed mid-way may be in any state: it is not reused, and it keeps
    // the listener for whatever it still emits while it is torn down.
    ({ client, errors, listener }, exit) =>
      Effect.sync(() => {
        errors.onError = () => undefined
        if (exit._tag === "Success") client.off("error", listener)
        client.release(exit._tag === "Failure" ? true : undefined)
      })
  )

export const fromPool = (pool: Pg.Pool, options: { readonly available: boolean }) =>
  Layer.succeed(BulkCopy, {
    available: options.available,
    copyIn: (statement, data) =>
      options.available
        ? copyThrough(pool, statement, data).pipe(Effect.withSpan("BulkCopy.copyIn"))
        : Effect.fail(failure(new Error("COPY FROM STDIN is not available on the embedded database")))
  })
