/**
 * `ctx.connect` for providers run in-process (tests, fakes): a `ws` socket exposed as the SDK's
 * `SocketConnection`, with its messages as an async iterable that ends when the socket closes.
 */
import WebSocket from "ws"
import type { SocketConnection } from "../../sdk/types"
import { makeSocketMessages } from "../socketMessages"

export const connectWebSocket = (url: string, signal?: AbortSignal): Promise<SocketConnection> =>
  new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { handshakeTimeout: 10_000 })
    const incoming = makeSocketMessages()
    socket.on("message", (data, isBinary) => {
      incoming.push(isBinary ? Buffer.from(data as Buffer).toString("utf8") : data.toString())
    })
    socket.on("close", (code) => incoming.closed(code))
    const onAbort = () => socket.close(1000, "aborted")
    signal?.addEventListener("abort", onAbort, { once: true })
    socket.once("error", (e) => {
      if (socket.readyState !== WebSocket.OPEN) reject(e)
    })
    socket.once("unexpected-response", (_req, res) => {
      reject(new Error(`WebSocket upgrade refused with HTTP ${res.statusCode}`))
    })
    socket.once("open", () => {
      async function* messages(): AsyncGenerator<string> {
        try {
          yield* incoming.read()
        } finally {
          signal?.removeEventListener("abort", onAbort)
        }
      }
      resolve({
        send: (data) => socket.send(data),
        messages: messages(),
        close: (code, reason) => socket.close(code ?? 1000, reason),
        get closeCode() {
          return incoming.closeCode
        }
      })
    })
  })
