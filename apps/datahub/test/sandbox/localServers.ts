/**
 * Fakes on 127.0.0.1 that sandboxed providers may reach: an HTTP server answering "HTTP-OK" and
 * a WebSocket server answering each message with "WS-OK", started before DataHub so that the
 * allowlist can name their exact host:port.
 */
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { SandboxAllowHosts } from "@quasar/sandbox/node"
import { Context, Effect, Layer } from "effect"
import { WebSocketServer } from "ws"

export class LocalServers extends Context.Tag("test/LocalServers")<
  LocalServers,
  { readonly port: number; readonly httpUrl: string; readonly wsUrl: string }
>() {
  static readonly layer = Layer.scoped(
    LocalServers,
    Effect.acquireRelease(
      Effect.async<{ port: number; httpUrl: string; wsUrl: string; close: () => void }>((resume) => {
        const http = createServer((_, res) => res.end("HTTP-OK"))
        const ws = new WebSocketServer({ server: http })
        ws.on("connection", (socket) => socket.on("message", () => socket.send("WS-OK")))
        http.listen(0, "127.0.0.1", () => {
          const { port } = http.address() as AddressInfo
          const close = () => {
            ws.close()
            http.close()
          }
          resume(
            Effect.succeed({
              port,
              httpUrl: `http://127.0.0.1:${port}/`,
              wsUrl: `ws://127.0.0.1:${port}/`,
              close
            })
          )
        })
      }),
      ({ close }) => Effect.sync(close)
    )
  )
}

/** The allowlist naming exactly the fakes' host:port, and `more` entries. */
export const allowLocalServers = (more: ReadonlyArray<{ host: string; port?: number }> = []) =>
  Layer.effect(
    SandboxAllowHosts,
    Effect.map(LocalServers, ({ port }) => [{ host: "127.0.0.1", port }, ...more])
  )
