/**
 * `npm start` (and `npm run dev` = `--watch`): the whole platform on one machine with nothing
 * installed. Hosts the embedded database unless DATABASE_URL is set, keeps a write token and the
 * services' own credential, runs
 * Registry, DataHub and Trader as child processes, and serves port 3000 the way Nginx does in
 * production (UI + `/api/registry/*` + `/api/datahub/*` + `/api/trader/*`). Ctrl-C or SIGTERM stops everything in order
 * (services, then the proxy, then the database) and exits 0; a service dying on its own stops
 * everything too, with exit code 1.
 */
import { MIN_TOKEN_LENGTH } from "@quasar/server"
import { Cause, Effect, Exit, Option } from "effect"
import * as Config from "./launcher/config"
import * as Database from "./launcher/database"
import { waitHealthy } from "./launcher/health"
import { LauncherError } from "./launcher/LauncherError"
import { sinkFor } from "./launcher/output"
import * as PersistedSecret from "./launcher/persistedSecret"
import { placeholderPage } from "./launcher/placeholder"
import { firstExit, killAllNow, type ServiceSpec, spawnAll } from "./launcher/services"
import { serveWeb, serviceRoutes } from "./launcher/web"
import { ensureWebBuild } from "./launcher/webBuild"

const say = (line: string) => process.stdout.write(`${line}\n`)
const complain = (line: string) => process.stderr.write(`quasar: ${line}\n`)
// Whoever reads our output may go away first (a closed pipe, `| head`): that must not crash
// the launcher halfway through stopping the services.
process.stdout.on("error", () => undefined)
process.stderr.on("error", () => undefined)

const HEALTH_TIMEOUT = "60 seconds"

/** The environment without the secret key, which only the Registry is given. */
const withoutSecretKey = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv => {
  const { QUASAR_SECRET_KEY: _key, ...rest } = env
  return rest
}

const program = Effect.gen(function* () {
  const config = yield* Config.load(process.argv.slice(2))
  const dial = Config.dialHost(config.host)
  const shown = Config.displayHost(config.host)
  const token = yield* PersistedSecret.resolve(
    config.dataDir,
    "admin-token",
    config.adminToken,
    MIN_TOKEN_LENGTH
  )
  const serviceToken = yield* PersistedSecret.resolve(
    config.dataDir,
    "service-token",
    config.serviceToken,
    MIN_TOKEN_LENGTH
  )
  const secretKey = yield* PersistedSecret.resolve(config.dataDir, "secret-key", config.secretKey)

  const database = yield* Option.match(config.databaseUrl, {
    onNone: () =>
      Effect.map(
        Database.hostEmbedded(config.dataDir, config.embeddedDbPort),
        ({ directory, port, opened }) => ({
          description: `embedded PostgreSQL (PGlite) on 127.0.0.1:${port}, data in ${directory}`,
          opened
        })
      ),
    onSome: (url) =>
      Effect.succeed({
        description: `PostgreSQL at ${Database.describeUrl(url)} (DATABASE_URL)`,
        opened: Effect.void
      })
  })
  say(`quasar: database: ${database.description}`)

  const url = (port: number) => `http://${shown}:${port}`
  const routes = serviceRoutes(dial, config.registryPort, config.datahubPort, config.traderPort)
  yield* ensureWebBuild(config.repoRoot, config.webDist, say)
  yield* serveWeb(
    {
      routes,
      distDir: config.webDist,
      placeholder: (hostName) =>
        placeholderPage({
          registry: `http://${hostName}:${config.registryPort}`,
          datahub: `http://${hostName}:${config.datahubPort}`,
          trader: `http://${hostName}:${config.traderPort}`
        })
    },
    config.host,
    config.webPort
  )

  const specs: ReadonlyArray<ServiceSpec> = [
    // Only the Registry opens provider secrets: the other services never hold the key.
    { name: "registry", port: config.registryPort, env: { QUASAR_SECRET_KEY: secretKey.value } },
    { name: "datahub", port: config.datahubPort },
    { name: "trader", port: config.traderPort }
  ]
  const services = yield* spawnAll(
    specs,
    {
      cwd: config.repoRoot,
      watch: config.watch,
      env: {
        ...withoutSecretKey(process.env),
        REGISTRY_PORT: String(config.registryPort),
        DATAHUB_PORT: String(config.datahubPort),
        TRADER_PORT: String(config.traderPort),
        REGISTRY_URL: process.env.REGISTRY_URL || `http://${dial}:${config.registryPort}`,
        DATAHUB_URL: process.env.DATAHUB_URL || `http://${dial}:${config.datahubPort}`,
        QUASAR_DATA_DIR: config.dataDir,
        QUASAR_EMBEDDED_DB_PORT: String(config.embeddedDbPort),
        QUASAR_ADMIN_TOKEN: token.value,
        QUASAR_SERVICE_TOKEN: serviceToken.value,
        QUASAR_CORS_ORIGINS: Config.corsOriginsFor(config)
      },
      stdout: sinkFor(process.stdout),
      stderr: sinkFor(process.stderr)
    },
    say
  )
  const started = services.map((s) => `${s.name} (pid ${s.pid ?? "?"})`)
  say(`quasar: started ${started.slice(0, -1).join(", ")} and ${started.at(-1)}`)

  const healthy = waitHealthy(
    specs.map((s) => ({ name: s.name, url: `http://${dial}:${s.port}/health` })),
    HEALTH_TIMEOUT
  )
  // The database may still be opening; the services wait for it, and so do we.
  const opened = database.opened.pipe(
    Effect.timeoutFail({
      duration: HEALTH_TIMEOUT,
      onTimeout: () => new LauncherError({ message: `the database did not open within ${HEALTH_TIMEOUT}` })
    })
  )
  yield* Effect.raceFirst(Effect.zipRight(opened, healthy), firstExit(services))
  say(
    [
      "",
      `Quasar is up${config.watch ? " (watching for changes)" : ""}`,
      `  UI         ${url(config.webPort)}/`,
      `  Registry   ${url(config.registryPort)}   docs ${url(config.registryPort)}/docs   via UI ${url(config.webPort)}/api/registry/`,
      `  DataHub    ${url(config.datahubPort)}   docs ${url(config.datahubPort)}/docs   via UI ${url(config.webPort)}/api/datahub/`,
      `  Trader     ${url(config.traderPort)}   docs ${url(config.traderPort)}/docs   via UI ${url(config.webPort)}/api/trader/`,
      `  database   ${database.description}`,
      token.source === "environment"
        ? "  write token: from QUASAR_ADMIN_TOKEN"
        : `  write token: ${token.value}   (kept in ${token.file})`,
      serviceToken.source === "environment"
        ? "  service token: from QUASAR_SERVICE_TOKEN"
        : `  service token: kept in ${serviceToken.file} (only the services use it)`,
      secretKey.source === "environment"
        ? "  secrets key: from QUASAR_SECRET_KEY"
        : `  secrets key: kept in ${secretKey.file} (provider secrets are encrypted with it: back it up with the database)`,
      "Ctrl-C stops everything.",
      ""
    ].join("\n")
  )
  return yield* firstExit(services)
})

const fiber = Effect.runFork(Effect.scoped(program))

let stopping = false
const onSignal = (signal: NodeJS.Signals) => {
  if (stopping) {
    // A second Ctrl-C means "now": no grace period, but still no orphans.
    complain(`${signal} again: killing the services now`)
    killAllNow()
    process.exit(1)
  }
  stopping = true
  say(`quasar: ${signal} received, stopping (services, then the proxy, then the database)`)
  fiber.unsafeInterruptAsFork(fiber.id())
}
process.on("SIGINT", onSignal)
process.on("SIGTERM", onSignal)
// Last resort if the launcher dies some other way: never leave a service running.
process.on("exit", killAllNow)

fiber.addObserver((exit) => {
  if (Exit.isSuccess(exit) || Cause.isInterruptedOnly(exit.cause)) {
    say("quasar: stopped")
    process.exit(0)
  }
  const failure = Cause.failureOption(exit.cause)
  complain(
    Option.match(failure, {
      onSome: (e: LauncherError) => e.message,
      onNone: () => Cause.pretty(exit.cause)
    })
  )
  process.exit(1)
})
