/**
 * The Registry and DataHub of one test, each finding the other over HTTP: DataHub reads the
 * Registry's catalogue, the Registry asks DataHub to validate and list.
 */
import { createServer } from "node:net"
import { HttpServer } from "@effect/platform"
import type { DatabaseUrl, ServiceConfigValues } from "@quasar/server"
import { TestService } from "@quasar/server/testing"
import { type Context, Deferred, Effect, Layer } from "effect"
import { appLayer as dataHubApp } from "../../apps/datahub/src/App"
import { RegistryCatalog } from "../../apps/datahub/src/catalog/RegistryCatalog"

/** A TCP port free right now on 127.0.0.1. */
export const freePort = Effect.async<number>((resume) => {
  const server = createServer()
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

/** The Registry's own URL, from the server it runs on. */
const registryUrl = Effect.map(HttpServer.HttpServer, ({ address }) =>
  address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : ""
)

/**
 * `registry(datahubUrl)`, the Registry under test, with DataHub (given `around`, e.g. its
 * telemetry) on the same database, reading its catalogue. DataHub starts first (the Registry
 * validates its built-ins through it at start) and learns the Registry's URL once it runs.
 */
export const registryWithDataHub = <A, E, R>(
  database: Layer.Layer<DatabaseUrl>,
  registry: (datahubUrl: string) => Layer.Layer<A | HttpServer.HttpServer, E, R>,
  around: Layer.Layer<never> = Layer.empty
) =>
  Layer.unwrapScoped(
    Effect.gen(function* () {
      const url = yield* Deferred.make<string>()
      const datahubUrl = yield* TestService.start(
        dataHubApp().pipe(Layer.provide(RegistryCatalog.layerAt(Deferred.await(url))), Layer.provide(around)),
        database
      )
      return Layer.tap(registry(datahubUrl), (context) =>
        Effect.flatMap(Effect.provide(registryUrl, context as Context.Context<HttpServer.HttpServer>), (u) =>
          Deferred.succeed(url, u)
        )
      )
    })
  )

/** Starts DataHub on `port` reading the catalogue of the Registry at `registryUrl` (both already chosen). */
export const startDataHub = (
  database: Layer.Layer<DatabaseUrl>,
  config: Partial<ServiceConfigValues> & { readonly port: number; readonly registryUrl: string }
) =>
  TestService.start(
    dataHubApp().pipe(Layer.provide(RegistryCatalog.layer)),
    database,
    TestService.testConfig(config)
  )
