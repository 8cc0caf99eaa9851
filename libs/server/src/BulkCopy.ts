/**
 * `COPY … FROM STDIN` and `COPY … TO STDOUT` on the service's own pool, for the paths where they
 * pay. In: appending rows that are known to be new (the bar writer's backfill path); COPY inserts
 * rows in multi-row batches and skips the executor, so it stores several times more rows per
 * second of database CPU than any INSERT; it is one statement, so a failure (a duplicate key,
 * 23505) stores nothing. Out: reading many rows in PostgreSQL's binary format, which the server
 * writes with no per-row object on this side (copyOutStream.ts) and the caller decodes in place.
 *
 * Not offered on the embedded database (PGlite has no COPY over its socket): callers check
 * `available` and use an INSERT or a SELECT instead.
 */
import { SqlError } from "@effect/sql"
import { Context, Effect, Layer, Stream } from "effect"
import Pg from "pg"
import { from as copyFrom } from "pg-copy-streams"
import { copyOutStream } from "./copyOutStream"

export interface BulkCopyService {
  readonly available: boolean
  /** Runs `statement` (a `COPY … FROM STDIN`) with `data` as its input; the rows copied. */
  readonly copyIn: (statement: string, data: Uint8Array) => Effect.Effect<number, SqlError.SqlError>
  /**
   * The output of `statement` (a `COPY … TO STDOUT`) as it arrives, in the chunks the socket
   * delivers (row boundaries fall anywhere). Pulled: the server waits while the consumer does.
   * COPY takes no parameters: put values in with `literal`.
   */
  readonly copyOut: (statement: string) => Stream.Stream<Uint8Array, SqlError.SqlError>
}

/** `value` as a quoted SQL string literal, for statements that take no parameters (COPY). */
export const literal = (value: string): string => Pg.escapeLiteral(value)

export class BulkCopy extends Context.Tag("@quasar/server/BulkCopy")<BulkCopy, BulkCopyService>() {}

const failure = (cause: unknown) =>
  new SqlError.SqlError({ cause, message: cause instanceof Error ? cause.message : "COPY failed" })

interface Checkout {
  readonly client: Pg.PoolClient
  readonly errors: { onError: (e: Error) => void }
  readonly listener: (e: Error) => void
}

/**
 * A client checked out for one COPY, with an "error" listener for the whole checkout: a client
 * whose connection dies emits "error" on itself, not on the stream, and may do so more than once,
 * and an "error" with no listener takes the process down. The listener is attached in the pool's
 * callback, in the same turn as the pool takes its own off: a promise would leave a turn between
 * them, in which a terminated backend's message (57P01) finds no listener.
 */
const checkOut = (pool: Pg.Pool) =>
  Effect.async<Checkout, SqlError.SqlError>((resume) => {
    let wanted = true
    pool.connect((err, client) => {
      if (err || client === undefined) {
        if (wanted) resume(Effect.fail(failure(err ?? new Error("the pool gave no client"))))
        return
      }
      const errors: Checkout["errors"] = { onError: () => undefined }
      const listener = (e: Error) => errors.onError(e)
      client.on("error", listener)
      if (wanted) return resume(Effect.succeed({ client, errors, listener }))
      // Interrupted while waiting for the pool: the client goes back unused.
      client.off("error", listener)
      client.release()
    })
    return Effect.sync(() => {
      wanted = false
    })
  })

// A connection whose COPY failed or was abandoned mid-way may be in any state: it is not reused,
// and it keeps the listener for whatever it still emits while it is torn down.
const checkIn = ({ client, errors, listener }: Checkout, failed: boolean) =>
  Effect.sync(() => {
    errors.onError = () => undefined
    if (!failed) client.off("error", listener)
    client.release(failed ? true : undefined)
  })

const copyThrough = (pool: Pg.Pool, statement: string, data: Uint8Array) =>
  Effect.acquireUseRelease(
    checkOut(pool),
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
    (checkout, exit) => checkIn(checkout, exit._tag === "Failure")
  )

const copyOutThrough = (pool: Pg.Pool, statement: string): Stream.Stream<Uint8Array, SqlError.SqlError> =>
  Stream.acquireRelease(checkOut(pool), (checkout, exit) => checkIn(checkout, exit._tag === "Failure")).pipe(
    Stream.flatMap(({ client, errors }) => {
      const stream = client.query(copyOutStream(statement))
      // The connection's death fails the read in progress; a failed COPY errors the stream itself.
      errors.onError = (e) => stream.destroy(e)
      return Stream.fromAsyncIterable<Uint8Array, SqlError.SqlError>(stream, failure)
    })
  )

export const fromPool = (pool: Pg.Pool, options: { readonly available: boolean }) =>
  Layer.succeed(BulkCopy, {
    available: options.available,
    copyIn: (statement, data) =>
      options.available
        ? copyThrough(pool, statement, data).pipe(Effect.withSpan("BulkCopy.copyIn"))
        : Effect.fail(failure(new Error("COPY FROM STDIN is not available on the embedded database"))),
    copyOut: (statement) =>
      options.available
        ? copyOutThrough(pool, statement).pipe(Stream.withSpan("BulkCopy.copyOut"))
        : Stream.fail(failure(new Error("COPY TO STDOUT is not available on the embedded database")))
  })
