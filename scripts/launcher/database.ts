/**
 * The database side of `npm start`: with no DATABASE_URL the launcher itself hosts the embedded
 * PGlite, so it outlives restarts of either service under `--watch` and is flushed and closed
 * last, after both services have stopped. Opening it takes seconds (the first start runs initdb),
 * so it opens while the services load: the launcher claims the data directory first, and a
 * service that finds it claimed waits for the port instead of opening the files itself. The
 * database requires a password, generated on the first start and kept owner-only in the data
 * directory (`passwordFile`), where the services read it when they join.
 */
import { connect } from "node:net"
import { join } from "node:path"
import { EmbeddedPostgres } from "@quasar/server/node"
import { Effect, ExecutionStrategy, Fiber, Scope } from "effect"
import { LauncherError } from "./LauncherError"

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

const asLauncherError = (e: { readonly message: string }) => new LauncherError({ message: e.message })

/**
 * Claims the data directory and starts opening the database; `opened` completes when it serves.
 * The scope's end closes it (waiting for an open still in progress) and then drops the claim.
 */
export const hostEmbedded = (dataDir: string, port: number) =>
  Effect.gen(function* () {
    if (yield* answers(port)) {
      return yield* new LauncherError({
        message: `something already listens on 127.0.0.1:${port} (QUASAR_EMBEDDED_DB_PORT); is another Quasar running? Stop it or choose another port`
      })
    }
    const scope = yield* Scope.fork(yield* Effect.scope, ExecutionStrategy.sequential)
    yield* EmbeddedPostgres.lock(dataDir).pipe(Scope.extend(scope), Effect.mapError(asLauncherError))
    const opening = yield* EmbeddedPostgres.serve(dataDir, port).pipe(
      Scope.extend(scope),
      Effect.mapError(asLauncherError),
      Effect.forkDaemon
    )
    yield* Scope.addFinalizer(scope, Fiber.interrupt(opening))
    return {
      directory: join(dataDir, "pgdata"),
      passwordFile: EmbeddedPostgres.passwordFile(dataDir),
      port,
      opened: Fiber.join(opening)
    }
  })

/** Where DATABASE_URL points, without credentials, for the banner. */
export const describeUrl = (url: string): string => {
  try {
    const parsed = new URL(url)
    return `${parsed.hostname}${parsed.port ? `:${parsed.port}` : ""}${parsed.pathname}`
  } catch {
    return "(DATABASE_URL is not a URL)"
  }
}
