/**
 * `ctx.connect` inside the sandbox child, which has no network of its own: the host opens the
 * WebSocket under the egress policy and relays text frames over IPC (see node/egress/relaySocket.ts);
 * this adapts that relay to the SDK's `SocketConnection`. Runs in the child.
 */
import { makeSocketMessages } from "@quasar/providers/host"
import type { SocketConnection } from "@quasar/providers/sdk"
import type { RelayReply, RelayRequest } from "./relayProtocol"

const HANDSHAKE_TIMEOUT_MS = 10_000

type Post = (message: RelayRequest) => boolean
type SocketReply = Extract<RelayReply, { readonly sock: number }>

const errorFrom = (error: { readonly name: string; readonly message: string }): Error => {
  const e = new Error(error.message)
  Object.defineProperty(e, "name", { value: error.name })
  return e
}

export const makeSocketConnector = (post: Post) => {
  let nextSock = 0
  const sockets = new Map<number, (reply: SocketReply) => void>()

  /** Takes any host message; only the relay's socket replies (they carry `sock`) are its. */
  const receive = (message: object) => {
    if (!("sock" in message) || typeof message.sock !== "number") return
    sockets.get(message.sock)?.(message as SocketReply)
  }

  const connect = (url: string, signal: AbortSignal): Promise<SocketConnection> =>
    new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason)
      const sock = nextSock++
      const incoming = makeSocketMessages()
      let opened = false
      const close = (code?: number, reason?: string) => {
        if (incoming.closeCode === undefined)
          post({
            _tag: "SocketClose",
            sock,
            code: code ?? 1000,
            ...(reason ? { reason: reason.slice(0, 123) } : {})
          })
      }
      const timer = setTimeout(() => {
        close()
        reject(new Error(`WebSocket handshake with ${url} did not finish within ${HANDSHAKE_TIMEOUT_MS} ms`))
      }, HANDSHAKE_TIMEOUT_MS)
      const onAbort = () => close(1000, "aborted")
      signal.addEventListener("abort", onAbort, { once: true })

      sockets.set(sock, (reply) => {
        switch (reply._tag) {
          case "SocketOpened":
            clearTimeout(timer)
            opened = true
            return resolve({
              send: (data) => {
                if (incoming.closeCode === undefined) post({ _tag: "SocketSend", sock, data: String(data) })
              },
              messages: incoming.read(),
              close,
              get closeCode() {
                return incoming.closeCode
              }
            })
          case "SocketFrame":
            return incoming.push(reply.data)
          case "SocketClosed":
            clearTimeout(timer)
            incoming.closed(reply.code)
            sockets.delete(sock)
            signal.removeEventListener("abort", onAbort)
            if (!opened)
              reject(
                reply.error
                  ? errorFrom(reply.error)
                  : new Error(`WebSocket to ${url} closed before opening (code ${reply.code})`)
              )
            return
        }
      })
      post({ _tag: "SocketOpen", sock, url: String(url) })
    })

  return { connect, receive }
}
