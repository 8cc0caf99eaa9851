/**
 * Serves an HttpApi the same way in both services: OpenAPI at `/openapi.json`, Swagger UI at
 * `/docs`, CORS for the dev UI, a JSON 404 for unknown routes, and one structured log line per
 * request (inside the request's span, so it carries the trace id).
 */
import {
  type HttpApi,
  HttpApiBuilder,
  HttpApiSwagger,
  HttpApp,
  HttpMiddleware,
  HttpServer,
  HttpServerError,
  HttpServerRequest,
  HttpServerResponse
} from "@effect/platform"
import { Effect, Exit, Layer, Metric, MetricLabel } from "effect"
import * as Metrics from "./Metrics"

/** Numeric path segments (ids, versions) folded so routes keep a small label cardinality. */
const routeOf = (path: string) => path.replace(/\/\d+(?=\/|$)/g, "/:n")
const labelsOf = (tags: Record<string, string>) =>
  Object.entries(tags).map(([k, v]) => MetricLabel.make(k, v))

const requestLog = HttpMiddleware.make((app) =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const started = Date.now()
    const path = request.url.split("?")[0] ?? request.url
    // The router answers an unknown route with an empty 404 (already sent by the time a failure
    // reaches this middleware), so rewrite it just before it is sent.
    yield* HttpApp.appendPreResponseHandler((_, res) =>
      Effect.succeed(
        res.status === 404 && res.body._tag === "Empty"
          ? HttpServerResponse.unsafeJson(
              { _tag: "NotFound", message: `no route for ${request.method} ${path}; see /docs for the API` },
              { status: 404 }
            )
          : res
      )
    )
    const exit = yield* Effect.exit(app)
    const status = Exit.isSuccess(exit) ? exit.value.status : HttpServerError.exitResponse(exit).status
    const durationMs = Date.now() - started
    const tags = { method: request.method, route: routeOf(path), status: String(status) }
    yield* Metric.increment(Metric.taggedWithLabels(Metrics.httpRequests, labelsOf(tags)))
    yield* Metric.update(Metric.taggedWithLabels(Metrics.httpDuration, labelsOf(tags)), durationMs / 1000)
    // 503 is an answer with a reason (a dependency is down), not a failure of this service.
    const log =
      status >= 500 && status !== 503 ? Effect.logError : status >= 400 ? Effect.logWarning : Effect.logInfo
    yield* log("http request").pipe(
      Effect.annotateLogs({ method: request.method, path, status, durationMs }),
      Effect.annotateLogs(Exit.isFailure(exit) ? { error: String(exit.cause) } : {})
    )
    return yield* exit
  })
)

/** The HTTP server layer for `api`, given the layer that implements it. */
export const layer = <E, R>(apiLayer: Layer.Layer<HttpApi.Api, E, R>) =>
  HttpApiBuilder.serve(requestLog).pipe(
    Layer.provide(HttpApiSwagger.layer({ path: "/docs" })),
    Layer.provide(HttpApiBuilder.middlewareOpenApi({ path: "/openapi.json" })),
    Layer.provide(HttpApiBuilder.middlewareCors()),
    Layer.provide(apiLayer),
    HttpServer.withLogAddress
  )
