/**
 * The messages of the egress relay, which every sandbox whose code may reach the network shares
 * (DataHub's providers, Trader's brokers): the child has no network of its own, so `ctx.fetch`
 * and `ctx.connect` go to the host as these requests, the host applies the egress policy
 * (node/egress/) and answers with these replies. A response body is pull-based: one `FetchChunk`
 * (or `FetchEnd`) per `FetchPull`, so a slow reader holds the host's download still; socket
 * frames are pushed as they arrive. An app's child-message schema includes `RelayRequest`'s
 * members and its host messages `RelayReply`.
 */
import { Schema } from "effect"
import type { ThrownError } from "../protocol"

export type RelayReply =
  | {
      readonly _tag: "FetchHead"
      readonly req: number
      readonly status: number
      readonly statusText: string
      readonly headers: ReadonlyArray<readonly [string, string]>
      readonly url: string
      readonly redirected: boolean
    }
  | { readonly _tag: "FetchChunk"; readonly req: number; readonly data: Uint8Array }
  | { readonly _tag: "FetchEnd"; readonly req: number }
  | { readonly _tag: "FetchError"; readonly req: number; readonly error: ThrownError }
  | { readonly _tag: "SocketOpened"; readonly sock: number }
  | { readonly _tag: "SocketFrame"; readonly sock: number; readonly data: string }
  | {
      readonly _tag: "SocketClosed"
      readonly sock: number
      readonly code: number
      readonly error?: ThrownError
    }

const RelayId = Schema.Int.pipe(Schema.nonNegative())
/** The longest URL the child may ask for (browsers and servers stop near here too). */
export const MAX_URL_LENGTH = 16_384
/** The largest request body the child may send through `ctx.fetch`. */
export const MAX_REQUEST_BODY = 8 * 1024 * 1024
const Url = Schema.String.pipe(Schema.maxLength(MAX_URL_LENGTH))

/** `ctx.fetch` from the child: the request, made (or refused) by the host's egress relay. */
export const FetchStart = Schema.TaggedStruct("FetchStart", {
  req: RelayId,
  url: Url,
  method: Schema.String.pipe(Schema.maxLength(32)),
  headers: Schema.Array(Schema.Tuple(Schema.String, Schema.String)).pipe(Schema.maxItems(256)),
  redirect: Schema.Literal("follow", "manual", "error"),
  body: Schema.optional(
    Schema.instanceOf(Uint8Array).pipe(
      Schema.filter(
        (b) => b.byteLength <= MAX_REQUEST_BODY || `a request body over ${MAX_REQUEST_BODY} bytes`
      )
    )
  )
})
export const FetchPull = Schema.TaggedStruct("FetchPull", { req: RelayId })
export const FetchAbort = Schema.TaggedStruct("FetchAbort", { req: RelayId })
/** `ctx.connect` from the child. */
export const SocketOpen = Schema.TaggedStruct("SocketOpen", { sock: RelayId, url: Url })
export const SocketSend = Schema.TaggedStruct("SocketSend", { sock: RelayId, data: Schema.String })
export const SocketClose = Schema.TaggedStruct("SocketClose", {
  sock: RelayId,
  code: Schema.optional(Schema.Int),
  reason: Schema.optional(Schema.String.pipe(Schema.maxLength(123)))
})

export const RelayRequest = Schema.Union(
  FetchStart,
  FetchPull,
  FetchAbort,
  SocketOpen,
  SocketSend,
  SocketClose
)
export type RelayRequest = typeof RelayRequest.Type

/** Whether a decoded child message is one of the relay's (they alone carry `req` or `sock`). */
export const isRelayRequest = <M extends object>(message: M): message is M & RelayRequest =>
  "req" in message || "sock" in message
