/**
 * The largest frame a `/live` client may send. `ws` buffers a frame until it is complete, up to
 * its server's `maxPayload` (100 MiB by default), and the platform creates the WebSocket server
 * of its upgrades without options, out of our reach. So the route marks its upgrade request with
 * the limit, and `ws`'s `handleUpgrade`, wrapped once here, applies it to that server just
 * before it accepts the socket; a larger frame then closes the connection (1009) as soon as its
 * header arrives. Requests without the mark (any other WebSocket server) are left alone.
 */
import type { IncomingMessage } from "node:http"
import { WebSocketServer } from "ws"

const MAX_PAYLOAD = Symbol.for("@quasar/datahub/live/maxPayload")
let wrapped = false

const wrapHandleUpgrade = () => {
  if (wrapped) return
  wrapped = true
  const original = WebSocketServer.prototype.handleUpgrade
  WebSocketServer.prototype.handleUpgrade = function (
    this: WebSocketServer,
    ...args: Parameters<WebSocketServer["handleUpgrade"]>
  ) {
    const limit: unknown = Reflect.get(args[0], MAX_PAYLOAD)
    if (typeof limit === "number") this.options.maxPayload = limit
    return original.apply(this, args)
  }
}

/** Frames of the upgrade of `request` are at most `bytes` long. */
export const limitFrames = (request: IncomingMessage, bytes: number): void => {
  wrapHandleUpgrade()
  Reflect.set(request, MAX_PAYLOAD, bytes)
}
