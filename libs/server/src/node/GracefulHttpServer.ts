/**
 * The Node HTTP server of a service, made to stop gracefully. Left to itself, shutdown goes:
 * the app's request handler is removed, then `server.close()` destroys every connection without
 * a request in progress. Two things go wrong with that (test/service-process.test.ts):
 * - a request already sent but not parsed yet is reset (ECONNRESET), and
 * - a request parsed after the handler is removed gets no answer at all, and keeps `close()`
 *   (hence the process) waiting until the client gives up.
 * `drain` runs before any of that: it keeps answering (with `Connection: close`) until no request
 * has started for a short while, stops accepting, waits for the requests in progress (all of it
 * bounded), and only then closes the idle connections. A request that still arrives after the
 * handler is gone gets a 503.
 */
import { createServer, type Server } from "node:http"
import { Server as NetServer } from "node:net"
import { Clock, Duration, Effect } from "effect"

/** Drained once no request has started for this long and none is in progress. */
const QUIET_MS = 250
/** Stop accepting new connections after this long even if requests keep coming. */
const MAX_ACCEPT_MS = 1_000
/** Never hold shutdown longer than this: the rest of it must fit in runService's deadline too. */
const MAX_DRAIN_MS = 6_000
const LOOK_EVERY = Duration.millis(25)

export interface GracefulHttpServer {
  readonly server: Server
  /** Stops accepting and waits for the requests in progress; call before the app is torn down. */
  readonly drain: Effect.Effect<void>
}

/** `clock`: the time the drain measures quiet by (a test's, or the wall clock's). */
export const make = (clock: Clock.Clock = Clock.make()): GracefulHttpServer => {
  const server = createServer()
  let inFlight = 0
  let lastStarted = 0
  let draining = false
  // Registered before the app's handler, so it runs first; it is the only one left once the app
  // has been torn down.
  server.on("request", (_req, res) => {
    inFlight++
    lastStarted = clock.unsafeCurrentTimeMillis()
    res.once("close", () => {
      inFlight--
    })
    // Tell keep-alive clients not to send another request on this connection.
    if (draining) res.setHeader("connection", "close")
    if (server.listenerCount("request") === 1) {
      res.writeHead(503, { "content-type": "application/json", "retry-after": "1", connection: "close" })
      res.end(
        JSON.stringify({
          _tag: "ServiceUnavailable",
          message: "the service is starting or shutting down; retry"
        })
      )
    }
  })
  const drain = Effect.suspend(() => {
    if (!server.listening) return Effect.void
    draining = true
    const started = clock.unsafeCurrentTimeMillis()
    const quiet = (now: number) => inFlight === 0 && now - Math.max(started, lastStarted) >= QUIET_MS
    /** One look at the server; true once it is drained (or the drain has taken long enough). */
    const look = Effect.map(clock.currentTimeMillis, (now) => {
      // Closing the listening socket resets the connections still in its accept queue, requests
      // already sent included: keep accepting until things are quiet (briefly), then stop.
      if (server.listening && (quiet(now) || now - started >= MAX_ACCEPT_MS)) {
        // net's close, not http's: that one also drops connections whose request is not parsed yet.
        NetServer.prototype.close.call(server)
        lastStarted = now
      }
      if ((!server.listening && quiet(now)) || now - started >= MAX_DRAIN_MS) {
        server.closeIdleConnections()
        return true
      }
      return false
    })
    return Effect.zipRight(clock.sleep(LOOK_EVERY), look).pipe(
      Effect.repeat({ until: (drained) => drained }),
      Effect.asVoid
    )
  })
  return { server, drain }
}
