/**
 * Runs a service's app layer for a test: a real HTTP server on a random port, an `HttpClient`
 * pointed at it (for the derived `HttpApiClient`), a fresh database, and a test configuration.
 */
import { createServer } from "node:http"
import { type HttpRouter, type HttpServer, HttpServer as HttpServerTag } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import type { SqlClient } from "@effect/sql"
import { Context, Effect, Layer, LogLevel, Option, Redacted } from "effect"
import type { SwaggerAssets } from "../ApiDocs"
import type * as BulkCopy from "../BulkCopy"
import * as Database from "../Database"
import type { DatabaseUrl } from "../DatabaseUrl"
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
    Layer.provideMerge(NodeHttpServer.layerTest),
    Layer.provideMerge(Database.layer({ poolSize: 5, applicationName: "quasar-test" })),
    Layer.provideMerge(database),
    Layer.provideMerge(ServiceConfig.layer(config)),
    Layer.provide(SwaggerAssetsLive.layer)
  )

/**
 * Starts `app` as a second service in the same test (its own HTTP server on a random port and
 * its own memo map — HttpApiBuilder's router is a global layer that two services in one memo
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
        Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })),
        Layer.provideMerge(Database.layer({ poolSize: 5, applicationName: "quasar-test" })),
        Layer.provideMerge(database),
        Layer.provideMerge(ServiceConfig.layer(config)),
        Layer.provide(SwaggerAssetsLive.layer)
      )
    )
    const { address } = Context.get(context, HttpServerTag.HttpServer)
    return address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : ""
  })
