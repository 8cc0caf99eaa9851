/**
 * The embedded database for `npm start` with nothing installed: PGlite persisted under the data
 * directory, served on a loopback port by pglite-socket so that both services (separate
 * processes) share it. The first process to start hosts it; the others join. The port doubles
 * as the lock that keeps two PGlite instances off the same files.
 */
import { mkdirSync } from "node:fs"
import { connect } from "node:net"
import { join, resolve } from "node:path"
import { PGlite } from "@electric-sql/pglite"
import { PGLiteSocketServer } from "@electric-sql/pglite-socket"
import { Effect, Layer, Redacted, Schema } from "effect"
import { DatabaseUrl } from "../DatabaseUrl"

export class EmbeddedDatabaseError extends Schema.TaggedError<EmbeddedDatabaseError>()(
  "EmbeddedDatabaseError",
  {
    message: Schema.String
  }
) {}

const urlFor = (port: number) =>
  Redacted.make(`postgresql://postgres@127.0.0.1:${port}/postgres?sslmode=disable`)

const answers = (port: number) =>
  Effect.async<boolean>((resume) => {
    const socket = connect({ host: "127.0.0.1", port })
    socket.once("connect", () => {
      socket.destroy()
      resume(Effect.succeed(true))
    })
    socket.once("error", () => resume(Effect.succeed(false)))
  })

/** Starts PGlite on `dataDir` and serves it on 127.0.0.1:`port` until the scope closes. */
export const host = (dataDir: string, port: number) =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: async () => {
        const dir = resolve(dataDir, "pgdata")
        mkdirSync(dir, { recursive: true })
        const db = await PGlite.create(dir)
        // Each service holds a small pool plus one connection for its own use; leave headroom.
        const server = new PGLiteSocketServer({ db, host: "127.0.0.1", port, maxConnections: 64 })
        try {
          await server.start()
        } catch (e) {
          await db.close()
          throw e
        }
        return { db, server }
      },
      catch: (e) =>
        new EmbeddedDatabaseError({
          message: `cannot start the embedded database in ${join(dataDir, "pgdata")} on port ${port}: ${String(e)}`
        })
    }),
    ({ db, server }) =>
      Effect.promise(async () => {
        await server.stop()
        await db.close()
      }).pipe(Effect.timeoutOption("5 seconds"))
  )

/**
 * Provides the embedded database's URL, joining one already served on `port` or hosting it in
 * this process for as long as the layer lives.
 */
export const layer = (dataDir: string, port: number) =>
  Layer.scoped(
    DatabaseUrl,
    Effect.gen(function* () {
      if (!(yield* answers(port))) {
        const hosted = yield* host(dataDir, port).pipe(
          Effect.map(() => true),
          // Lost a race with another service starting at the same moment: join it instead.
          Effect.catchAll((e) =>
            Effect.flatMap(answers(port), (up) => (up ? Effect.succeed(false) : Effect.fail(e)))
          )
        )
        yield* Effect.logInfo(hosted ? "hosting the embedded database" : "joined the embedded database").pipe(
          Effect.annotateLogs({ dataDir: resolve(dataDir), port })
        )
      } else {
        yield* Effect.logInfo("joined the embedded database").pipe(Effect.annotateLogs({ port }))
      }
      return { url: urlFor(port), embedded: true }
    })
  )
