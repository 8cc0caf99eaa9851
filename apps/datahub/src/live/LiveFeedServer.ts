/**
 * The `/live` WebSocket (through Nginx: `/api/datahub/live`), a route on the HttpApi's own router
 * so it is served by the same server, middleware and graceful shutdown as the rest of the API.
 * The request's fiber lives as long as the socket: when the server stops, it is interrupted and
 * the socket closed.
 *
 * An anonymous client must not be able to make DataHub hold much memory: its frames are at most
 * `MAX_CLIENT_FRAME_BYTES` (a 4,096-character message), and one client address holds at most
 * `MAX_CONNECTIONS_PER_CLIENT` connections (more → 429 before the upgrade).
 */
import { HttpApiBuilder, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServerRequest } from "@effect/platform-node"
import { LIVE_PATH } from "@quasar/domain"
import { ClientAddress } from "@quasar/server"
import { Effect } from "effect"
import { serveClient } from "./LiveClient"
import { LiveHub } from "./LiveHub"
import { limitFrames } from "./limitFrames"

/** 4,096 characters (the longest message a client may send) of up to 4 UTF-8 bytes each. */
export const MAX_CLIENT_FRAME_BYTES = 16_384
/** A UI tab holds one connection, a service a few. */
export const MAX_CONNECTIONS_PER_CLIENT = 32

const notAnUpgrade = HttpServerResponse.unsafeJson(
  {
    _tag: "UpgradeRequired",
    message: `${LIVE_PATH} is a WebSocket endpoint: connect with a WebSocket client (ws://…/live, through Nginx /api/datahub/live)`
  },
  { status: 426 }
)

const tooManyConnections = HttpServerResponse.unsafeJson(
  {
    _tag: "TooManyConnections",
    message: `at most ${MAX_CONNECTIONS_PER_CLIENT} ${LIVE_PATH} connections per client: close some first (one connection carries up to 1,000 series)`
  },
  { status: 429, headers: { "retry-after": "10" } }
)

export const LiveFeedRoute = HttpApiBuilder.Router.use((router) =>
  Effect.gen(function* () {
    const hub = yield* LiveHub
    /** Open connections per client address. */
    const open = new Map<string, number>()
    const take = (client: string) =>
      Effect.sync(() => {
        const n = open.get(client) ?? 0
        if (n >= MAX_CONNECTIONS_PER_CLIENT) return false
        open.set(client, n + 1)
        return true
      })
    const give = (client: string) =>
      Effect.sync(() => {
        const n = (open.get(client) ?? 1) - 1
        if (n <= 0) open.delete(client)
        else open.set(client, n)
      })

    const serve = (request: HttpServerRequest.HttpServerRequest) => {
      limitFrames(NodeHttpServerRequest.toIncomingMessage(request), MAX_CLIENT_FRAME_BYTES)
      return HttpServerRequest.upgrade.pipe(
        Effect.flatMap((socket) => Effect.scoped(Effect.provideService(serveClient(socket), LiveHub, hub))),
        Effect.as(HttpServerResponse.empty()),
        Effect.catchTag("RequestError", () => Effect.succeed(notAnUpgrade))
      )
    }

    yield* router.get(
      LIVE_PATH,
      Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
        const client = ClientAddress.clientAddress(request)
        return Effect.acquireUseRelease(
          take(client),
          (admitted) => (admitted ? serve(request) : Effect.succeed(tooManyConnections)),
          (admitted) => (admitted ? give(client) : Effect.void)
        )
      })
    )
  })
)
