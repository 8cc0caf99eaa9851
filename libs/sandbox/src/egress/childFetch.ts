/**
 * `ctx.fetch` inside the sandbox child, which has no network of its own: the request goes to
 * the host over IPC, the host applies the egress policy and makes it, and the response comes back
 * as a `Response` whose body is pulled chunk by chunk. Runs in the child (no Effect, no Node
 * network modules).
 */
import { MAX_REQUEST_BODY, type RelayReply, type RelayRequest } from "./relayProtocol"

type Post = (message: RelayRequest) => boolean
type FetchReply = Extract<RelayReply, { readonly req: number }>

/** Statuses whose responses have no body (the Response constructor refuses one). */
const NULL_BODY = new Set([101, 103, 204, 205, 304])

const errorFrom = (error: { readonly name: string; readonly message: string }): Error => {
  const e = error.name === "TypeError" ? new TypeError(error.message) : new Error(error.message)
  Object.defineProperty(e, "name", { value: error.name })
  return e
}

export const makeChildFetch = (post: Post) => {
  let nextReq = 0
  const waiting = new Map<number, (reply: FetchReply) => void>()

  /** Takes any host message; only the relay's fetch replies (they carry `req`) are its. */
  const receive = (message: object) => {
    if (!("req" in message) || typeof message.req !== "number") return
    waiting.get(message.req)?.(message as FetchReply)
  }

  const fetch = async (input: string | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init)
    const signal = init?.signal ?? undefined
    signal?.throwIfAborted()
    const body = request.body ? new Uint8Array(await request.arrayBuffer()) : undefined
    if (body && body.byteLength > MAX_REQUEST_BODY)
      throw new TypeError(`fetch failed: the request body is larger than ${MAX_REQUEST_BODY} bytes`)
    const req = nextReq++
    let onReply: (reply: FetchReply) => void = () => undefined
    waiting.set(req, (reply) => onReply(reply))
    const abort = () => {
      waiting.delete(req)
      post({ _tag: "FetchAbort", req })
    }
    const head = await new Promise<Extract<FetchReply, { _tag: "FetchHead" }>>((resolve, reject) => {
      const onAbort = () => {
        abort()
        reject(signal?.reason)
      }
      signal?.addEventListener("abort", onAbort, { once: true })
      onReply = (reply) => {
        signal?.removeEventListener("abort", onAbort)
        if (reply._tag === "FetchHead") return resolve(reply)
        waiting.delete(req)
        reject(
          reply._tag === "FetchError"
            ? errorFrom(reply.error)
            : new TypeError(`fetch failed: got ${reply._tag}`)
        )
      }
      const sent = post({
        _tag: "FetchStart",
        req,
        url: request.url,
        method: request.method,
        headers: [...request.headers],
        redirect: request.redirect,
        ...(body ? { body } : {})
      })
      if (!sent)
        onReply({
          _tag: "FetchError",
          req,
          error: { name: "TypeError", message: "fetch failed: the host channel is closed" }
        })
    })

    let pending: { resolve: (reply: FetchReply) => void; reject: (reason: unknown) => void } | undefined
    onReply = (reply) => pending?.resolve(reply)
    const stream = NULL_BODY.has(head.status)
      ? null
      : new ReadableStream<Uint8Array>({
          pull: async (controller) => {
            const reply = await new Promise<FetchReply>((resolve, reject) => {
              pending = { resolve, reject }
              post({ _tag: "FetchPull", req })
            })
            pending = undefined
            if (reply._tag === "FetchChunk") return controller.enqueue(reply.data)
            waiting.delete(req)
            if (reply._tag === "FetchEnd") return controller.close()
            controller.error(
              reply._tag === "FetchError" ? errorFrom(reply.error) : new TypeError("fetch failed")
            )
          },
          cancel: abort
        })
    if (!stream) {
      waiting.delete(req)
      post({ _tag: "FetchAbort", req })
    }
    // Aborting mid-body errors the stream, as fetch does.
    signal?.addEventListener(
      "abort",
      () => {
        if (!waiting.has(req)) return
        abort()
        pending?.reject(signal.reason)
      },
      { once: true }
    )
    const response = new Response(stream, {
      status: head.status,
      statusText: head.statusText,
      headers: head.headers.map(([k, v]): [string, string] => [k, v])
    })
    Object.defineProperty(response, "url", { value: head.url })
    Object.defineProperty(response, "redirected", { value: head.redirected })
    return response
  }

  return { fetch, receive }
}
