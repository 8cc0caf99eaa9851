/**
 * The host's end of `ctx.connect` for one child: opens each WebSocket the child asks for through
 * the egress dispatcher (the destination is checked first, so a refusal has a clear reason, and
 * the connection itself is checked and pinned again by the dispatcher) and forwards text frames
 * both ways. At most MAX_OPEN_SOCKETS per child.
 */
import { WebSocket } from "undici"
import type { RelayRequest } from "../../egress/relayProtocol"
import { deniedReason, refusal, rootMessage } from "./Egress"
import { checkedAddress } from "./pinnedConnector"
import type { RelayOptions } from "./relayFetch"

export const MAX_OPEN_SOCKETS = 16
const DEFAULT_PORT: Readonly<Record<string, number>> = { "ws:": 80, "wss:": 443 }
/** Close codes a client may send (RFC 6455 §7.4); anything else becomes a normal close. */
const sendableCode = (code: number | undefined) =>
  code === 1000 || (code !== undefined && code >= 3000 && code <= 4999) ? code : 1000

/**
 * Closes `socket` with what the child asked for where a client may send it. A close that throws
 * (a reason over 123 bytes, say) closes plainly: whatever the child sends, the host never throws.
 */
const closeSocket = (socket: WebSocket, code: number | undefined, reason: string | undefined) => {
  try {
    socket.close(sendableCode(code), reason)
  } catch {
    socket.close()
  }
}

export const makeSocketRelay = ({ egress, send, denied }: RelayOptions) => {
  const sockets = new Map<number, WebSocket | "opening">()
  const decoder = new TextDecoder()

  const closed = (sock: number, code: number, error?: { name: string; message: string }) => {
    if (!sockets.has(sock)) return
    sockets.delete(sock)
    send(error ? { _tag: "SocketClosed", sock, code, error } : { _tag: "SocketClosed", sock, code })
  }

  const open = (sock: number, url: string) => {
    if (sockets.has(sock)) return
    let target: URL
    try {
      target = new URL(url)
    } catch {
      sockets.set(sock, "opening")
      return closed(sock, 1006, { name: "Error", message: "invalid WebSocket URL" })
    }
    sockets.set(sock, "opening")
    if (sockets.size > MAX_OPEN_SOCKETS)
      return closed(sock, 1006, {
        name: "Error",
        message: `more than ${MAX_OPEN_SOCKETS} WebSockets open at once`
      })
    if (target.protocol !== "ws:" && target.protocol !== "wss:") {
      const reason = `only ws: and wss: URLs can be connected to, not ${target.protocol}`
      denied(url, reason)
      return closed(sock, 1006, refusal(url, reason))
    }
    const port = Number(target.port) || DEFAULT_PORT[target.protocol] || 80
    checkedAddress(egress.rules, egress.resolve, target.hostname, port).then(
      () => {
        if (sockets.get(sock) !== "opening") return
        const socket = new WebSocket(url, { dispatcher: egress.dispatcher })
        socket.binaryType = "arraybuffer"
        sockets.set(sock, socket)
        let failure: string | undefined
        socket.addEventListener("open", () => send({ _tag: "SocketOpened", sock }))
        socket.addEventListener("message", (event) => {
          const data: unknown = event.data
          send({
            _tag: "SocketFrame",
            sock,
            data: typeof data === "string" ? data : decoder.decode(data as ArrayBuffer)
          })
        })
        socket.addEventListener("error", (event) => {
          const cause = (event as { error?: unknown }).error
          const reason = deniedReason(cause)
          if (reason !== undefined) denied(url, reason)
          failure = reason ?? (cause === undefined ? undefined : rootMessage(cause))
        })
        socket.addEventListener("close", (event) => {
          if (sockets.get(sock) !== socket) return
          closed(sock, event.code, failure === undefined ? undefined : { name: "Error", message: failure })
        })
      },
      (e: unknown) => {
        const reason = deniedReason(e)
        if (reason !== undefined) denied(url, reason)
        closed(
          sock,
          1006,
          reason !== undefined ? refusal(url, reason) : { name: "Error", message: rootMessage(e) }
        )
      }
    )
  }

  return {
    handle: (message: RelayRequest) => {
      switch (message._tag) {
        case "SocketOpen":
          return open(message.sock, message.url)
        case "SocketSend": {
          const socket = sockets.get(message.sock)
          if (socket instanceof WebSocket && socket.readyState === WebSocket.OPEN) socket.send(message.data)
          return
        }
        case "SocketClose": {
          const socket = sockets.get(message.sock)
          if (socket instanceof WebSocket) closeSocket(socket, message.code, message.reason)
          else sockets.delete(message.sock)
          return
        }
      }
    },
    /** The child is gone: its sockets close. */
    close: () => {
      for (const socket of sockets.values())
        if (socket instanceof WebSocket) closeSocket(socket, 1000, "sandbox stopped")
      sockets.clear()
    }
  }
}
