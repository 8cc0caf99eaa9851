/**
 * The embedded database for `npm start` with nothing installed: PGlite persisted under the data
 * directory, served on a loopback port by pglite-socket so that both services (separate
 * processes) share it. The first process to start hosts it; the others join.
 *
 * Two PGlite instances must never open the same files, and the port alone cannot guard that:
 * it is only bound once PGlite has opened (and, on close, checkpointed) them. So the host first
 * claims the directory with a lock file holding its pid; a process that finds the lock held by a
 * live process waits for that host's port instead of opening the files itself. This also lets
 * `npm start` host the database while the services are still loading.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { connect } from "node:net"
import { join, resolve } from "node:path"
import { Duration, Effect, ExecutionStrategy, Exit, Layer, Redacted, Schedule, Schema, Scope } from "effect"
import { DatabaseUrl } from "../DatabaseUrl"

export class EmbeddedDatabaseError extends Schema.TaggedError<EmbeddedDatabaseError>()(
  "EmbeddedDatabaseError",
  {
    message: Schema.String
  }
) {}

/** The data directory is claimed by another live process (which is, or is about to be, serving it). */
export class EmbeddedDatabaseBusy extends Schema.TaggedError<EmbeddedDatabaseBusy>()("EmbeddedDatabaseBusy", {
  message: Schema.String,
  pid: Schema.Number
}) {}

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
    return Effect.sync(() => socket.destroy())
  })

export const lockFile = (dataDir: string) => resolve(dataDir, "embedded-db.lock")

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

const lockedBy = (file: string): number | null => {
  try {
    const pid = Number.parseInt(readFileSync(file, "utf8"), 10)
    return Number.isInteger(pid) && pid > 0 ? pid : null
  } catch {
    return null
  }
}

/**
 * Claims `dataDir` for this process until the scope closes. A lock left behind by a process that
 * no longer runs (killed with SIGKILL, power loss) is taken over.
 */
export const lock = (dataDir: string) => {
  const file = lockFile(dataDir)
  return Effect.acquireRelease(
    Effect.try({
      try: () => {
        mkdirSync(resolve(dataDir), { recursive: true })
        for (let attempt = 0; attempt < 2; attempt++) {
          try {
            writeFileSync(file, `${process.pid}\n`, { flag: "wx", mode: 0o600 })
            return null
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e
            const holder = lockedBy(file)
            if (holder !== null && holder !== process.pid && alive(holder)) return holder
            rmSync(file, { force: true })
          }
        }
        throw new Error("another process claimed it at the same moment")
      },
      catch: (e) => new EmbeddedDatabaseError({ message: `cannot lock ${file}: ${String(e)}` })
    }).pipe(
      Effect.flatMap((holder) =>
        holder === null
          ? Effect.void
          : Effect.fail(
              new EmbeddedDatabaseBusy({
                pid: holder,
                message: `the embedded database in ${resolve(dataDir)} is in use by process ${holder} (if no Quasar process runs, delete ${file})`
              })
            )
      )
    ),
    () =>
      Effect.sync(() => {
        if (lockedBy(file) === process.pid) rmSync(file, { force: true })
      })
  )
}

/** Opens PGlite on `dataDir` and serves it on 127.0.0.1:`port` until the scope closes; hold `lock` first. */
export const serve = (dataDir: string, port: number) =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: async () => {
        const dir = resolve(dataDir, "pgdata")
        mkdirSync(dir, { recursive: true })
        // Loaded only by the process that hosts the database: a service on DATABASE_URL (or one
        // that joins) never pays PGlite's memory.
        const [{ PGlite }, { PGLiteSocketServer }] = await Promise.all([
          import("@electric-sql/pglite"),
          import("@electric-sql/pglite-socket")
        ])
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
 * Claims `dataDir`, then serves it on 127.0.0.1:`port`, until the scope closes. If serving fails
 * (port taken) the claim is dropped at once, not when the caller's scope ends.
 */
export const host = (dataDir: string, port: number) =>
  Effect.gen(function* () {
    const scope = yield* Scope.fork(yield* Effect.scope, ExecutionStrategy.sequential)
    yield* Effect.zipRight(lock(dataDir), serve(dataDir, port)).pipe(
      Scope.extend(scope),
      Effect.onError((cause) => Scope.close(scope, Exit.failCause(cause)))
    )
  })

/** How long a joining service waits for a host that is still opening the database. */
const JOIN_WAIT = Duration.seconds(60)

const waitForHost = (port: number, busy: EmbeddedDatabaseBusy) =>
  Effect.logInfo("waiting for the embedded database to open").pipe(
    Effect.annotateLogs({ hostPid: busy.pid, port }),
    Effect.zipRight(
      answers(port).pipe(Effect.repeat({ until: (up) => up, schedule: Schedule.spaced("200 millis") }))
    ),
    Effect.timeout(JOIN_WAIT),
    // Join anyway: the pool has no startup probe, so health says 503 until the host answers.
    Effect.catchTag("TimeoutException", () =>
      Effect.logWarning("the embedded database does not answer yet; joining anyway").pipe(
        Effect.annotateLogs({ hostPid: busy.pid, port, waited: Duration.format(JOIN_WAIT) })
      )
    )
  )

/**
 * Provides the embedded database's URL, joining one already served on `port` (or being opened by
 * another process) or hosting it in this process for as long as the layer lives.
 */
export const layer = (dataDir: string, port: number) =>
  Layer.scoped(
    DatabaseUrl,
    Effect.gen(function* () {
      if (!(yield* answers(port))) {
        const hosted = yield* host(dataDir, port).pipe(
          Effect.as(true),
          Effect.catchTag("EmbeddedDatabaseBusy", (busy) => Effect.as(waitForHost(port, busy), false)),
          // Something else holds the port: join it if it is a database, else report why we could not host.
          Effect.catchTag("EmbeddedDatabaseError", (e) =>
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
