/**
 * Runs a service's app layer for a test: a real HTTP server on a random port, an `HttpClient`
 * pointed at it (for the derived `HttpApiClient`), a fresh database, and a test configuration.
 */
import type { HttpRouter, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import type { SqlClient } from "@effect/sql"
import { Layer, LogLevel, Option, Redacted } from "effect"
import * as Database from "../Database"
import type { DatabaseUrl } from "../DatabaseUrl"
import { ServiceConfig, type ServiceConfigValues } from "../ServiceConfig"
import * as TestDatabase from "./TestDatabase"

export const ADMIN_TOKEN = "test-admin-token"

export const testConfig = (overrides: Partial<ServiceConfigValues> = {}): ServiceConfigValues => ({
  port: 0,
  host: "127.0.0.1",
  logLevel: LogLevel.Warning,
  databaseUrl: Option.none(),
  poolSize: 5,
  dataDir: ".quasar-test",
  embeddedDbPort: 0,
  adminToken: Option.some(Redacted.make(ADMIN_TOKEN)),
  secretKey: Option.some(Redacted.make("test-secret-key-0123456789abcdef")),
  registryUrl: "http://127.0.0.1:8080",
  datahubUrl: "http://127.0.0.1:8081",
  ...overrides
})

export const layer = <A, E>(
  app: Layer.Layer<
    A,
    E,
    | HttpServer.HttpServer
    | HttpRouter.HttpRouter.DefaultServices
    | SqlClient.SqlClient
    | DatabaseUrl
    | ServiceConfig
  >,
  database: Layer.Layer<DatabaseUrl> = TestDatabase.layer,
  config: ServiceConfigValues = testConfig()
) =>
  app.pipe(
    Layer.provideMerge(NodeHttpServer.layerTest),
    Layer.provideMerge(Database.layer({ poolSize: 5, applicationName: "quasar-test" })),
    Layer.provideMerge(database),
    Layer.provideMerge(ServiceConfig.layer(config))
  )
