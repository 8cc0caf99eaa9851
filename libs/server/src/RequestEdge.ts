/**
 * The outermost layer of every request: one structured log line (inside the request's span, so
 * it carries the trace id; `/health` at debug, as orchestrators poll it), the request metrics
 * labelled by route template (never the raw path: unknown paths share one label), and the
 * finishing touches of answers the platform produces bare:
 * - an unknown route's empty 404 becomes a JSON `NotFound`;
 * - a 429 gets `Retry-After`;
 * - a schema validation failure gets a short message (field and reason).
 */
import {
  HttpApp,
  HttpBody,
  HttpMiddleware,
  HttpServerError,
  HttpServerRequest,
  HttpServerResponse
} from "@effect/platform"
import { Clock, Effect, Exit, Metric, MetricLabel } from "effect"
import { AuthThrottle } from "./AuthThrottle"
import { clientAddress } from "./ClientAddress"
import * as DecodeErrors from "./DecodeErrors"
import * as Metrics from "./Metrics"
import { type RouteTable, UNMATCHED } from "./RouteTable"

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
const HEALTH = "/health"

const labelsOf = (tags: Record<string, string>) =>
  Object.entries(tags).map(([k, v]) => MetricLabel.make(k, v))

const finish = (
  throttle: AuthThrottle["Type"],
  request: HttpServerRequest.HttpServerRequest,
  path: string,
  res: HttpServerResponse.HttpServerResponse
): Effect.Effect<HttpServerResponse.HttpServerResponse> => {
  if (res.status === 404 && res.body._tag === "Empty")
    return Effect.succeed(
      HttpServerResponse.unsafeJson(
        { _tag: "NotFound", message: `no route for ${request.method} ${path}; see /docs for the API` },
        { status: 404 }
      )
    )
  if (res.status === 429 && res.headers["retry-after"] === undefined)
    return Effect.map(throttle.retryAfterSeconds(clientAddress(request)), (seconds) =>
      HttpServerResponse.setHeader(res, "retry-after", String(Math.max(1, seconds)))
    )
  if (res.status === 400 && res.body._tag === "Uint8Array") {
    const short = DecodeErrors.shortened(new TextDecoder().decode(res.body.body))
    if (short !== undefined)
      return Effect.succeed(HttpServerResponse.setBody(res, HttpBody.text(short, "application/json")))
  }
  return Effect.succeed(res)
}

export const middleware = (routes: RouteTable) =>
  HttpMiddleware.make((app) =>
    Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      const throttle = yield* AuthThrottle
      const started = yield* Clock.currentTimeMillis
      const path = request.url.split("?")[0] ?? request.url
      // The router answers before this middleware sees the outcome: finish the answer just
      // before it is sent.
      yield* HttpApp.appendPreResponseHandler((_, res) => finish(throttle, request, path, res))
      const exit = yield* Effect.exit(app)
      const status = Exit.isSuccess(exit) ? exit.value.status : HttpServerError.exitResponse(exit).status
      const durationMs = (yield* Clock.currentTimeMillis) - started
      const method = METHODS.has(request.method) ? request.method : "OTHER"
      const route = routes.label(request.method, path)
      const tags = labelsOf({ method, route, status: String(status) })
      yield* Metric.increment(Metric.taggedWithLabels(Metrics.httpRequests, tags))
      yield* Metric.update(Metric.taggedWithLabels(Metrics.httpDuration, tags), durationMs / 1000)
      // 503 is an answer with a reason (a dependency is down), not a failure of this service.
      const log =
        route === HEALTH
          ? Effect.logDebug
          : status >= 500 && status !== 503
            ? Effect.logError
            : status >= 400
              ? Effect.logWarning
              : Effect.logInfo
      // An unknown route's failure says nothing the line does not (and a flood of them must not
      // flood the log with the router's whole answer).
      const error = Exit.isFailure(exit) && route !== UNMATCHED ? { error: String(exit.cause) } : {}
      yield* log("http request").pipe(
        Effect.annotateLogs({ method: request.method, path: path.slice(0, 512), route, status, durationMs }),
        Effect.annotateLogs(error)
      )
      return yield* exit
    })
  )
