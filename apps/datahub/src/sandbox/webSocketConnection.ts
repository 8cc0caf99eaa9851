/**
 * `ctx.connect` inside the sandbox: Node's global `WebSocket` (undici; the `ws` package cannot
 * be used because the child may read only its own directory) adapted to the SDK's
 * `SocketConnection`. Runs in the child.
 */
import type { SocketConnection } from "@quasar/providers/sdk"

const HANDSHAKE_TIMEOUT_MS = 10_000

export const connectWebSocket = (url: string, signal: AbortSignal): Promise<SocketConnection> =>
  new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const socket = new WebSocket(url)
    // Binary frames arrive as ArrayBuffer (undici's default is Blob, which needs an await).
    socket.binaryType = "arraybuffer"
    const queue: Array<string> = []
    const decoder = new TextDecoder()
    let wake: (() => void) | undefined
    let closeCode: number | undefined
    let opened = false
    const notify = () => {
      const w = wake
      wake = undefined
      w?.()
    }
    const timer = setTimeout(() => {
      socket.close()
      reject(new Error(`WebSocket handshake with ${url} did not finish within ${HANDSHAKE_TIMEOUT_MS} ms`))
    }, HANDSHAKE_TIMEOUT_MS)
    const onAbort = () => socket.close(1000, "aborted")
    signal.addEventListener("abort", onAbort, { once: true })

    socket.addEventListener("message", (event) => {
      const data: unknown = event.data
      queue.push(typeof data === "string" ? data : decoder.decode(data as ArrayBuffer))
      notify()
    })
    socket.addEventListener("close", (event) => {
      clearTimeout(timer)
      closeCode = event.code
      signal.removeEventListener("abort", onAbort)
      if (!opened) reject(new Error(`WebSocket to ${url} closed before opening (code ${event.code})`))
      notify()
    })
    socket.addEventListener("open", () => {
      clearTimeout(timer)
      opened = true
      async function* messages(): AsyncGenerator<string> {
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
