/**
 * Serves an HttpApi the same way in every service: OpenAPI at `/openapi.json`, Swagger UI at
 * `/docs`, the guards (`AdminAuth`, `ServiceAuth`, `BodyPolicy`, credential throttling), CORS
 * for the configured origins only, and the edge of every request (`RequestEdge`): metrics by
 * route template, one structured log line, and the finishing touches of error answers.
 */
import {
  type HttpApi,
  HttpApiBuilder,
  type HttpApiGroup,
  HttpIncomingMessage,
  HttpMiddleware,
  HttpServer
} from "@effect/platform"
import { Effect, Layer, Option } from "effect"
import { AdminAuthLive } from "./AdminAuth"
import * as ApiDocs from "./ApiDocs"
import { AuthThrottle } from "./AuthThrottle"
import * as BodyPolicy from "./BodyPolicy"
import * as RequestEdge from "./RequestEdge"
import * as RouteTable from "./RouteTable"
import { ServiceAuthLive } from "./ServiceAuth"
import { ServiceConfig } from "./ServiceConfig"

export interface Options {
  /** Routes served outside the API (a WebSocket), for the metrics' route label. */
  readonly extraRoutes?: ReadonlyArray<{ readonly method: string; readonly template: string }>
}

const servedRoutes = [
  { method: "GET", template: "/openapi.json" },
  { method: "GET", template: ApiDocs.DOCS_PATH },
  { method: "GET", template: `${ApiDocs.DOCS_PATH}/*` }
]

/** CORS for `QUASAR_CORS_ORIGINS` only; with none configured, no CORS headers at all. */
const cors = Layer.unwrapEffect(
  Effect.map(ServiceConfig, ({ corsOrigins }) => {
    if (corsOrigins.length === 0) return Layer.empty
    const allowed = new Set(corsOrigins)
    return HttpApiBuilder.middlewareCors({
      allowedOrigins: (origin) => allowed.has(origin),
      allowedHeaders: ["authorization", "content-type"],
      maxAge: 600
    })
  })
)

/** The HTTP server layer for `api`, given the layer that implements it. */
export const layer = <Id extends string, Groups extends HttpApiGroup.HttpApiGroup.Any, AE, AR, E, R>(
  api: HttpApi.HttpApi<Id, Groups, AE, AR>,
  apiLayer: Layer.Layer<HttpApi.Api, E, R>,
  options: Options = {}
) => {
  const routes = RouteTable.make(api, [...servedRoutes, ...(options.extraRoutes ?? [])])
  // The platform reads at most this much of a body; each endpoint's own limit is smaller or equal.
  const maxBody = HttpMiddleware.make((app) =>
    HttpIncomingMessage.withMaxBodySize(app, Option.some(routes.largestBody))
  )
  return HttpApiBuilder.serve((app) => RequestEdge.middleware(routes)(maxBody(app))).pipe(
    Layer.provide(ApiDocs.layer),
    Layer.provide(HttpApiBuilder.middlewareOpenApi({ path: "/openapi.json" })),
    Layer.provide(cors),
    Layer.provide(apiLayer),
    Layer.provide(Layer.mergeAll(AdminAuthLive, ServiceAuthLive, BodyPolicy.layer(routes))),
    Layer.provide(AuthThrottle.layer),
    HttpServer.withLogAddress
  )
}
