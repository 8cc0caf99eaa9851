/**
 * The embedded database for `npm start` with nothing installed: PGlite persisted under the data
 * directory, served on a loopback port by the session front (embedded/SessionFront.ts) so that both
 * services (separate processes) share it, each connection isolated from the others. The first
 * process to start hosts it; the others join. Clients authenticate with a password generated on
 * the first start and kept owner-only in the data directory, where a joining process reads it.
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
import {
  Duration,
  Effect,
  ExecutionStrategy,
  Exit,
  Layer,
  Option,
  Redacted,
  Runtime,
  Schedule,
  Schema,
  Scope
} from "effect"
import { DatabaseUrl } from "../DatabaseUrl"
import * as Credentials from "./embedded/credentials"
import * as SessionFront from "./embedded/SessionFront"

export { passwordFile, readPassword } from "./embedded/credentials"

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

/** The URL a client of the embedded database connects with, password included. */
export const urlFor = (port: number, password: string) =>
  Redacted.make(
    `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres?sslmode=disable`
  )

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

export interface ServeOptions {
  /** How long a connection may hold the database while idle in a transaction before it is cut. */
  readonly idleHoldMillis?: number
  readonly timer?: SessionFront.Timer
}

const logFrontEvent = (event: SessionFront.FrontEvent) => {
  const log =
    event.level === "error"
      ? Effect.logError
      : event.level === "warning"
        ? Effect.logWarning
        : Effect.logDebug
  return log(event.message).pipe(
    Effect.annotateLogs({ connection: event.connection, ...(event.detail ? { detail: event.detail } : {}) }),
    Effect.annotateLogs("component", "embedded-db")
  )
}

/**
 * Opens PGlite on `dataDir` and serves it on 127.0.0.1:`port` (0: a free port) until the scope
 * closes; hold `lock` first. Yields the port and the password clients must use.
 */
export const serve = (dataDir: string, port: number, options: ServeOptions = {}) =>
  Effect.gen(function* () {
    const runtime = yield* Effect.runtime<never>()
    const onEvent = (event: SessionFront.FrontEvent) => Runtime.runFork(runtime)(logFrontEvent(event))
    return yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => {
          const password = Credentials.ensurePassword(dataDir)
          const dir = resolve(dataDir, "pgdata")
          mkdirSync(dir, { recursive: true, mode: 0o700 })
          Credentials.harden(dataDir)
          // Loaded only by the process that hosts the database: a service on DATABASE_URL (or one
          // that joins) never pays PGlite's memory.
          const { PGlite } = await import("@electric-sql/pglite")
          const db = await PGlite.create(dir)
          try {
            Credentials.harden(dataDir)
            const front = await SessionFront.start({
              db,
              password,
              host: "127.0.0.1",
              port,
              onEvent,
              ...options
            })
            return { db, front, password }
          } catch (e) {
            await db.close()
            throw e
          }
        },
        catch: (e) =>
          new EmbeddedDatabaseError({
            message: `cannot start the embedded database in ${join(dataDir, "pgdata")} on port ${port}: ${String(e)}`
          })
      }),
      ({ db, front }) =>
        Effect.promise(async () => {
          await front.stop()
          await db.close()
          Credentials.harden(dataDir)
        }).pipe(Effect.timeoutOption("5 seconds"))
    ).pipe(
      Effect.tap(() => Effect.forkScoped(hardenWhileServing(dataDir))),
      Effect.map(({ front, password }) => ({ port: front.port, password }))
    )
  })

/**
 * PGlite creates every file 0666, whatever the umask, including the ones it adds while it runs
 * (WAL segments, new tables); the directory is closed to others, and this takes the permissions
 * off those files too, every minute until the database closes.
 */
const hardenWhileServing = (dataDir: string) =>
  Effect.try({
    try: () => Credentials.harden(dataDir),
    catch: (e) =>
      new EmbeddedDatabaseError({ message: `cannot restrict the permissions in ${dataDir}: ${String(e)}` })
  }).pipe(
    Effect.catchAll((e) => Effect.logWarning(e.message)),
    Effect.delay("1 minute"),
    Effect.forever
  )

/**
 * Claims `dataDir`, then serves it on 127.0.0.1:`port`, until the scope closes. If serving fails
 * (port taken) the claim is dropped at once, not when the caller's scope ends.
 */
export const host = (dataDir: string, port: number) =>
  Effect.gen(function* () {
    const scope = yield* Scope.fork(yield* Effect.scope, ExecutionStrategy.sequential)
    return yield* Effect.zipRight(lock(dataDir), serve(dataDir, port)).pipe(
      Scope.extend(scope),
      Effect.onError((cause) => Scope.close(scope, Exit.failCause(cause)))
    )
  })

/** How long a joining service waits for a host that is still opening the database. */
const JOIN_WAIT = Duration.seconds(60)

const waitForHost = (dataDir: string, port: number, busy: EmbeddedDatabaseBusy) =>
  Effect.logInfo("waiting for the embedded database to open").pipe(
    Effect.annotateLogs({ hostPid: busy.pid, port }),
    // The host writes the password before it opens PGlite, so it appears well before the port.
    Effect.zipRight(
      Effect.sync(() => Credentials.readPassword(dataDir) !== null && "ready").pipe(
        Effect.repeat({ until: (ready) => ready === "ready", schedule: Schedule.spaced("100 millis") })
      )
    ),
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

/** The password of the database another process serves from `dataDir`. */
const joinedPassword = (dataDir: string, port: number) =>
  Effect.suspend(() =>
    Option.match(Option.fromNullable(Credentials.readPassword(dataDir)), {
      onSome: Effect.succeed,
      onNone: () =>
        Effect.fail(
          new EmbeddedDatabaseError({
            message: `something serves 127.0.0.1:${port} but there is no embedded database password in ${Credentials.passwordFile(dataDir)}: give this service the same data directory (QUASAR_DATA_DIR) as the process that hosts the database, or another QUASAR_EMBEDDED_DB_PORT`
          })
        )
    })
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
          Effect.map((served) => served.password),
          Effect.catchTag("EmbeddedDatabaseBusy", (busy) =>
            Effect.as(waitForHost(dataDir, port, busy), null)
          ),
          // Something else holds the port: join it if it is a database, else report why we could not host.
          Effect.catchTag("EmbeddedDatabaseError", (e) =>
            Effect.flatMap(answers(port), (up) => (up ? Effect.succeed(null) : Effect.fail(e)))
          )
        )
        yield* Effect.logInfo(
          hosted !== null ? "hosting the embedded database" : "joined the embedded database"
        ).pipe(Effect.annotateLogs({ dataDir: resolve(dataDir), port }))
        const password = hosted ?? (yield* joinedPassword(dataDir, port))
        return { url: urlFor(port, password), embedded: true }
      }
      const password = yield* joinedPassword(dataDir, port)
      yield* Effect.logInfo("joined the embedded database").pipe(Effect.annotateLogs({ port }))
      return { url: urlFor(port, password), embedded: true }
    })
  )
