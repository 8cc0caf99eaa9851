/**
 * The `/live` WebSocket (through Nginx: `/api/datahub/live`), a route on the HttpApi's own router
 * so it is served by the same server, middleware and graceful shutdown as the rest of the API.
 * The request's fiber lives as long as the socket: when the server stops, it is interrupted and
 * the socket closed.
 */
import { HttpApiBuilder, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { LIVE_PATH } from "@quasar/domain"
import { Effect } from "effect"
import { serveClient } from "./LiveClient"
import { LiveHub } from "./LiveHub"

const notAnUpgrade = HttpServerResponse.unsafeJson(
  {
    _tag: "UpgradeRequired",
    message: `${LIVE_PATH} is a WebSocket endpoint: connect with a WebSocket client (ws://…/live, through Nginx /api/datahub/live)`
  },
  { status: 426 }
)

export const LiveFeedRoute = HttpApiBuilder.Router.use((router) =>
  Effect.gen(function* () {
    const hub = yield* LiveHub
    yield* router.get(
      LIVE_PATH,
      HttpServerRequest.upgrade.pipe(
        Effect.flatMap((socket) => Effect.scoped(Effect.provideService(serveClient(socket), LiveHub, hub))),
        Effect.as(HttpServerResponse.empty()),
        Effect.catchTag("RequestError", () => Effect.succeed(notAnUpgrade))
      )
    )
  })
)
