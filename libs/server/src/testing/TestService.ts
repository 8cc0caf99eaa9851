/**
 * Runs a service's app layer for a test: a real HTTP server on a random port, an `HttpClient`
 * pointed at it (for the derived `HttpApiClient`), and a fresh database.
 */
import type { HttpRouter, HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import type { SqlClient } from "@effect/sql"
import { Layer } from "effect"
import * as Database from "../Database"
import type { DatabaseUrl } from "../DatabaseUrl"
import * as TestDatabase from "./TestDatabase"

export const layer = <A, E>(
  app: Layer.Layer<
    A,
    E,
    HttpServer.HttpServer | HttpRouter.HttpRouter.DefaultServices | SqlClient.SqlClient | DatabaseUrl
  >,
  database: Layer.Layer<DatabaseUrl> = TestDatabase.layer
) =>
  app.pipe(
    Layer.provideMerge(NodeHttpServer.layerTest),
    Layer.provideMerge(Database.layer({ poolSize: 5, applicationName: "quasar-test" })),
    Layer.provideMerge(database)
  )
