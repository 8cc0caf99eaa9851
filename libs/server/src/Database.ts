/**
 * The one SQL client layer. The pool is created without a startup probe so that a service comes
 * up while the database is down (health answers 503) and recovers by itself when it returns.
 * The same pool serves `BulkCopy` (COPY FROM STDIN) where the server supports it.
 *
 * Connections that die silently (a NAT or firewall dropping the flow: no FIN, no RST) must not
 * stay in the pool: a query on one would hang, and the next caller would get the same dead
 * connection back. So: TCP keepalives (a dead peer is noticed without traffic), a connect
 * timeout, a statement timeout on the server and a slightly longer read timeout on the client
 * (a query whose answer never comes fails), and a connection given back while its query is still
 * running (the caller was interrupted, or the read timed out) is destroyed instead of reused —
 * which also keeps `pg` from queueing the next query behind the unfinished one.
 */
import { PgClient } from "@effect/sql-pg"
import { Duration, Effect, Layer, Redacted } from "effect"
import Pg from "pg"
import * as BulkCopy from "./BulkCopy"
import { DatabaseUrl } from "./DatabaseUrl"

// COUNT(*) and other int8 values arrive as strings by default; every count we keep fits a double.
Pg.types.setTypeParser(Pg.types.builtins.INT8, (v) => Number(v))

export interface DatabaseOptions {
  readonly poolSize: number
  readonly applicationName: string
  /** The server cancels a statement running longer (default 60 s). */
  readonly statementTimeout?: Duration.DurationInput
  /** Opening a connection fails after this (default 5 s). */
  readonly connectTimeout?: Duration.DurationInput
  /**
   * The schemas unqualified names resolve to on every connection of the pool: for a library
   * that names its own tables without a schema (DataHub's cluster storage lives in `datahub`).
   */
  readonly searchPath?: string
}

/** The pieces of `pg`'s client this layer looks at; `pg` 8 has no public API for them. */
interface ClientInternals {
  readonly _getActiveQuery?: () => unknown
  readonly _queryQueue?: ReadonlyArray<unknown>
  readonly connection?: { readonly stream?: { destroy: () => void } }
}

/** Whether a client still has a query running or queued: it must not be handed out again. */
const busy = (client: Pg.PoolClient): boolean => {
  const c = client as unknown as ClientInternals
  return (c._getActiveQuery?.() ?? null) !== null || (c._queryQueue?.length ?? 0) > 0
}

const discarded = new Error("connection released with a query still running; it is closed, not reused")

type Release = (err?: Error | boolean) => void
type ConnectCallback = (err: Error | undefined, client: Pg.PoolClient | undefined, release: Release) => void

/**
 * Wraps `pool.connect` (callback form, which @effect/sql-pg uses) so that every release checks the
 * client: one still busy is destroyed at once (its socket too: ending it politely would wait for
 * a peer that may never answer) and removed from the pool.
 */
const discardBusyOnRelease = (pool: Pg.Pool) => {
  const connect = pool.connect.bind(pool) as (cb: ConnectCallback) => void
  const wrapped = (cb?: ConnectCallback) => {
    if (cb === undefined)
      return new Promise<Pg.PoolClient>((resolve, reject) =>
        wrapped((err, client) => (err || !client ? reject(err) : resolve(client)))
      )
    connect((err, client, release) => {
      if (err || client === undefined) return cb(err, client, release)
      const checked: Release = (e) => {
        if (e === undefined && busy(client)) {
          ;(client as unknown as ClientInternals).connection?.stream?.destroy()
          return release(discarded)
        }
        return release(e)
      }
      client.release = checked
      cb(err, client, checked)
    })
    return undefined
  }
  pool.connect = wrapped as typeof pool.connect
}

export const layer = (options: DatabaseOptions) =>
  Layer.unwrapScoped(
    Effect.gen(function* () {
      const { url, embedded } = yield* DatabaseUrl
      const statementMs = Duration.toMillis(options.statementTimeout ?? Duration.seconds(60))
      const pool = yield* Effect.acquireRelease(
        Effect.sync(() => {
          const pool = new Pg.Pool({
            connectionString: Redacted.value(url),
            // All embedded connections share one PGlite backend; more would only queue.
            max: embedded ? Math.min(options.poolSize, 4) : options.poolSize,
            connectionTimeoutMillis: Duration.toMillis(options.connectTimeout ?? Duration.seconds(5)),
            idleTimeoutMillis: 30_000,
            keepAlive: true,
            keepAliveInitialDelayMillis: 10_000,
            // The server's timeout first (a clean error, the connection stays usable); the
            // client's read timeout only fires when no answer comes at all.
            statement_timeout: statementMs,
            query_timeout: statementMs + 5_000,
            application_name: options.applicationName,
            ...(options.searchPath === undefined ? {} : { options: `-c search_path=${options.searchPath}` })
          })
          discardBusyOnRelease(pool)
          // An idle client losing its connection must not crash the process; the next query reconnects.
          pool.on("error", () => undefined)
          return pool
        }),
        // Finalizers are uninterruptible: without `interruptible` the timeout would wait for
        // `end`, which waits for every connection, including one hung on a dead network.
        (pool) =>
          Effect.promise(() => pool.end()).pipe(Effect.interruptible, Effect.timeoutOption("2 seconds"))
      )
      return Layer.merge(
        PgClient.layerFromPool({ applicationName: options.applicationName, acquire: Effect.succeed(pool) }),
        BulkCopy.fromPool(pool, { available: !embedded })
      )
    })
  )
