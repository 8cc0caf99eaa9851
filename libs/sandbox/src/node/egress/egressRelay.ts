/**
 * The egress relay of one child as the sandbox's `Relay`: the child's relay requests go to the
 * fetch and socket relays, which make them under the egress policy; a refused destination is
 * reported through `denied` (the app logs it with its own annotations).
 */
import { isRelayRequest, type RelayReply } from "../../egress/relayProtocol"
import type { Relay } from "../childChannel"
import type { Egress } from "./Egress"
import { makeFetchRelay } from "./relayFetch"
import { makeSocketRelay } from "./relaySocket"

export const egressRelay =
  <M extends object>(egress: Egress, denied: (url: string, reason: string) => void) =>
  (send: (reply: RelayReply) => void): Relay<M> => {
    const options = { egress, send, denied }
    const fetch = makeFetchRelay(options)
    const socket = makeSocketRelay(options)
    return {
      accepts: isRelayRequest,
      cost: (message) =>
        isRelayRequest(message) && message._tag === "FetchStart" ? (message.body?.byteLength ?? 0) : 0,
      handle: (message) => {
        if (!isRelayRequest(message)) return
        fetch.handle(message)
        socket.handle(message)
      },
      close: () => {
        fetch.close()
        socket.close()
      }
    }
  }
