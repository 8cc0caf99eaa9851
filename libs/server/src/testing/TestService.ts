/**
 * Runs a service's app layer for a test: a real HTTP server on a random port, an `HttpClient`
 * pointed at it (for the derived `HttpApiClient`), a fresh database, and a test configuration.
 */
import { type HttpRouter, type HttpServer, HttpServer as HttpServerTag } from "@effect/platform"
import { NodeHttpClient, NodeHttpServer } from "@effect/platform-node"
import type { SqlClient } from "@effect/sql"
import { Context, Effect, Layer, LogLevel, Option, Redacted } from "effect"
import type { SwaggerAssets } from "../ApiDocs"
import type * as BulkCopy from "../BulkCopy"
import * as Database from "../Database"
import type { DatabaseUrl } from "../DatabaseUrl"
import * as GracefulHttpServer from "../node/GracefulHttpServer"
import * as SwaggerAssetsLive from "../node/SwaggerAssets"
import { ServiceConfig, type ServiceConfigValues } from "../ServiceConfig"
import * as TestDatabase from "./TestDatabase"

export const ADMIN_TOKEN = "test-admin-token-0123456789abcdef"
/** What the services send each other on `/internal/` routes. */
export const SERVICE_TOKEN = "test-service-token-0123456789abcdef"

export const testConfig = (overrides: Partial<ServiceConfigValues> = {}): ServiceConfigValues => ({
  port: 0,
  host: "127.0.0.1",
  logLevel: LogLevel.Warning,
  databaseUrl: Option.none(),
  poolSize: 5,
  dataDir: ".quasar-test",
  embeddedDbPort: 0,
  adminToken: Option.some(Redacted.make(ADMIN_TOKEN)),
  serviceToken: Option.some(Redacted.make(SERVICE_TOKEN)),
  corsOrigins: [],
  // Tests send wrong tokens on purpose, many per second; the production limit has its own test.
  authThrottle: { maxFailures: 1_000, windowSeconds: 60 },
  secretKey: Option.some(Redacted.make("test-secret-key-0123456789abcdef")),
  registryUrl: "http://127.0.0.1:8080",
  datahubUrl: "http://127.0.0.1:8081",
  otlpEndpoint: Option.none(),
  ...overrides
})

/**
 * The server a test's service runs on: production's, whose fallback answers 503 to a request
 * that arrives once the app's handler is gone (another service's keep-alive connection would
 * otherwise wait for an answer, and the server's close with it).
 */
const server = (port: number, host?: string) =>
  NodeHttpServer.layer(() => GracefulHttpServer.make().server, host === undefined ? { port } : { port, host })

/** `NodeHttpServer.layerTest` on that server: an `HttpClient` pointed at it. */
const serverWithClient = HttpServerTag.layerTestClient.pipe(
  Layer.provide(NodeHttpClient.layerWithoutAgent),
  Layer.provide(NodeHttpClient.makeAgentLayer({ keepAlive: false })),
  Layer.provideMerge(server(0))
)

export const layer = <A, E>(
  app: Layer.Layer<
    A,
    E,
    | HttpServer.HttpServer
    | HttpRouter.HttpRouter.DefaultServices
    | SqlClient.SqlClient
    | BulkCopy.BulkCopy
    | DatabaseUrl
    | ServiceConfig
    | SwaggerAssets
  >,
  database: Layer.Layer<DatabaseUrl> = TestDatabase.layer,
  config: ServiceConfigValues = testConfig()
) =>
  app.pipe(
    Layer.provideMerge(serverWithClient),
    Layer.provideMerge(Database.layer({ poolSize: 5, applicationName: "quasar-test" })),
    Layer.provideMerge(database),
    Layer.provideMerge(ServiceConfig.layer(config)),
    Layer.provide(SwaggerAssetsLive.layer)
  )

/**
 * Starts `app` as a second service in the same test (its own HTTP server on `config.port`, by
 * default a random one, and its own memo map — HttpApiBuilder's router is a global layer that two services in one memo
 * map would share) and yields its base URL, e.g. DataHub for a Registry test.
 */
export const start = <A, E>(
  app: Layer.Layer<
    A,
    E,
    | HttpServer.HttpServer
    | HttpRouter.HttpRouter.DefaultServices
    | SqlClient.SqlClient
    | BulkCopy.BulkCopy
    | DatabaseUrl
    | ServiceConfig
    | SwaggerAssets
  >,
  database: Layer.Layer<DatabaseUrl>,
  config: ServiceConfigValues = testConfig()
) =>
  Effect.gen(function* () {
    const context = yield* Layer.build(
      app.pipe(
        Layer.provideMerge(server(config.port, "127.0.0.1")),
        Layer.provideMerge(Database.layer({ poolSize: 5, applicationName: "quasar-test" })),
        Layer.provideMerge(database),
        Layer.provideMerge(ServiceConfig.layer(config)),
        Layer.provide(SwaggerAssetsLive.layer)
      )
    )
    const { address } = Context.get(context, HttpServerTag.HttpServer)
    return address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : ""
  })
