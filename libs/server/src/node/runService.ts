/**
 * The Node entry point shared by the services: read the configuration once (a bad value stops
 * the process with one line naming the variable, exit code 1), pick the database (DATABASE_URL
 * or the embedded one), start the HTTP server, and shut down cleanly on SIGTERM/SIGINT: the
 * server stops accepting, in-flight requests finish, then the pool closes.
 */
import { setFlagsFromString } from "node:v8"
import type { HttpRouter, HttpServer } from "@effect/platform"
import { NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import type { SqlClient } from "@effect/sql"
import { ConfigProvider, Effect, Either, Layer, Option } from "effect"
import type { SwaggerAssets } from "../ApiDocs"
import type * as BulkCopy from "../BulkCopy"
import * as Database from "../Database"
import { DatabaseUrl } from "../DatabaseUrl"
import * as Logging from "../Logging"
import {
  describeConfigError,
  ServiceConfig,
  type ServiceConfigValues,
  serviceConfig,
  startupWarnings
} from "../ServiceConfig"
import * as Telemetry from "../Telemetry"
import * as EmbeddedPostgres from "./EmbeddedPostgres"
import * as GracefulHttpServer from "./GracefulHttpServer"
import * as SwaggerAssetsLive from "./SwaggerAssets"

export interface ServiceDefinition<A, E> {
  readonly name: "registry" | "datahub" | "trader"
  readonly portVariable: string
  readonly defaultPort: number
  /** Everything the service runs, given a server, a database and its configuration. */
  readonly app: (
    config: ServiceConfigValues
  ) => Layer.Layer<
    A,
    E,
    | HttpServer.HttpServer
    | HttpRouter.HttpRouter.DefaultServices
    | SqlClient.SqlClient
    | BulkCopy.BulkCopy
    | DatabaseUrl
    | ServiceConfig
    | SwaggerAssets
  >
}

export const loadConfigOrExit = (
  name: string,
  portVariable: string,
  defaultPort: number
): ServiceConfigValues => {
  const result = Effect.runSync(
    Effect.either(serviceConfig(portVariable, defaultPort)).pipe(
      Effect.withConfigProvider(ConfigProvider.fromEnv())
    )
  )
  if (Either.isLeft(result)) {
    process.stderr.write(`quasar-${name}: invalid configuration: ${describeConfigError(result.left)}\n`)
    process.exit(1)
  }
  return result.right
}

/**
 * The longest a shutdown may take once SIGTERM/SIGINT arrives: within the launcher's (and most
 * orchestrators') 10 s before SIGKILL, even when a finalizer waits on a database that hangs.
 */
export const SHUTDOWN_DEADLINE_MS = 8_000

/** Exits with code 1 if the shutdown that `signal` starts has not finished by the deadline. */
const exitAfterDeadline = (name: string) => (signal: NodeJS.Signals) => {
  setTimeout(() => {
    process.stderr.write(
      `quasar-${name}: shutdown after ${signal} did not finish within ${SHUTDOWN_DEADLINE_MS / 1000} s (a dependency such as the database does not answer); exiting now\n`
    )
    process.exit(1)
  }, SHUTDOWN_DEADLINE_MS).unref()
}

/**
 * How far V8 lets the old generation grow past what the last full collection kept before it
 * marks again: double, where its own factor for a heap this small is about 1.25. A service keeps
 * a few tens of MB alive and streams many more through (a backtest's 48 MB of bars and 24 MB of
 * equity in Trader, a million rows of COPY in DataHub); at 1.25 every 8 MB promoted started a
 * full collection, four to seven a second, and GC took a third of Trader's CPU. The old space
 * keeps its cap (--max-old-space-size); only collections below it are fewer. Not settable in
 * NODE_OPTIONS, so set here, before the app allocates.
 */
const HEAP_GROWING_PERCENT = 100

export const runService = <A, E>(service: ServiceDefinition<A, E>): void => {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`)
  const config = loadConfigOrExit(service.name, service.portVariable, service.defaultPort)
  const deadline = exitAfterDeadline(service.name)
  process.once("SIGTERM", deadline)
  process.once("SIGINT", deadline)
  const databaseUrl = Option.match(config.databaseUrl, {
    onNone: () => EmbeddedPostgres.layer(config.dataDir, config.embeddedDbPort),
    onSome: (url) => DatabaseUrl.layer(url)
  })
  const http = GracefulHttpServer.make()
  const main = service
    .app(config)
    .pipe(
      Layer.provide(NodeHttpServer.layer(() => http.server, { port: config.port, host: config.host })),
      Layer.provide(Database.layer({ poolSize: config.poolSize, applicationName: `quasar-${service.name}` })),
      Layer.provideMerge(databaseUrl),
      Layer.provide(ServiceConfig.layer(config)),
      Layer.provide(SwaggerAssetsLive.layer)
    )
  // Built after everything else, so released first: in-flight requests finish while the app's
  // handler and the database pool are still there.
  const drainFirst = Layer.scopedDiscard(Effect.addFinalizer(() => http.drain)).pipe(Layer.provide(main))
  NodeRuntime.runMain(
    Effect.zipRight(startupWarnings(config), Layer.launch(drainFirst)).pipe(
      Effect.provide(Telemetry.layer(service.name, config.otlpEndpoint)),
      Effect.provide(Logging.layer(service.name, config.logLevel))
    ),
    {
      disablePrettyLogger: true
    }
  )
}
