/**
 * `ctx.connect` for providers run in-process (tests, fakes): a `ws` socket exposed as the SDK's
 * `SocketConnection`, with its messages as an async iterable that ends when the socket closes.
 */
import WebSocket from "ws"
import type { SocketConnection } from "../../sdk/types"

export const connectWebSocket = (url: string, signal?: AbortSignal): Promise<SocketConnection> =>
  new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { handshakeTimeout: 10_000 })
    const queue: Array<string> = []
    let wake: (() => void) | undefined
    let closeCode: number | undefined
    const notify = () => {
      const w = wake
      wake = undefined
      w?.()
    }
    socket.on("message", (data, isBinary) => {
      queue.push(isBinary ? Buffer.from(data as Buffer).toString("utf8") : data.toString())
      notify()
    })
    socket.on("close", (code) => {
      closeCode = code
      notify()
    })
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
          while (true) {
            const next = queue.shift()
            if (next !== undefined) {
              yield next
              continue
            }
            if (closeCode !== undefined) return
            await new Promise<void>((r) => {
              wake = r
            })
          }
        } finally {
          signal?.removeEventListener("abort", onAbort)
        }
      }
      resolve({
        send: (data) => socket.send(data),
        messages: messages(),
        close: (code, reason) => socket.close(code ?? 1000, reason),
        get closeCode() {
          return closeCode
        }
      })
    })
  })
