/**
 * The host's end of `ctx.fetch` for one child: makes each request the child asks for through
 * the egress dispatcher and hands the response back as a head and pulled chunks. Bounded: a few
 * dozen requests open at once, a response body of at most MAX_RESPONSE_BYTES, and a response
 * nobody pulls for IDLE_MS is dropped.
 */
import { fetch } from "undici"
import type { RelayReply, RelayRequest } from "../../egress/relayProtocol"
import { deniedReason, type Egress, refusal, rootMessage } from "./Egress"

export const MAX_OPEN_FETCHES = 32
export const MAX_RESPONSE_BYTES = 64 * 1024 * 1024
const IDLE_MS = 60_000

export interface RelayOptions {
  readonly egress: Egress
  readonly send: (reply: RelayReply) => void
  /** A destination the policy refused, for the log. */
  readonly denied: (url: string, reason: string) => void
}

interface Open {
  readonly controller: AbortController
  reader?: ReadableStreamDefaultReader<Uint8Array> | undefined
  received: number
  idle?: ReturnType<typeof setTimeout> | undefined
}

const networkError = (message: string) => ({ name: "TypeError", message: `fetch failed: ${message}` })

export const makeFetchRelay = ({ egress, send, denied }: RelayOptions) => {
  const open = new Map<number, Open>()

  const drop = (req: number) => {
    const entry = open.get(req)
    if (!entry) return
    open.delete(req)
    clearTimeout(entry.idle)
    entry.controller.abort()
  }

  const fail = (req: number, error: { name: string; message: string }) => {
    drop(req)
    send({ _tag: "FetchError", req, error })
  }

  /** A response the child stops reading is released after IDLE_MS. */
  const watchIdle = (req: number, entry: Open) => {
    clearTimeout(entry.idle)
    entry.idle = setTimeout(
      () => fail(req, networkError(`the response was not read for ${IDLE_MS / 1000} s`)),
      IDLE_MS
    )
    entry.idle.unref?.()
  }

  const start = (message: Extract<RelayRequest, { _tag: "FetchStart" }>) => {
    const { req, url } = message
    if (open.has(req))
      return send({ _tag: "FetchError", req, error: networkError(`request ${req} is already open`) })
    if (open.size >= MAX_OPEN_FETCHES)
      return send({
        _tag: "FetchError",
        req,
        error: networkError(`more than ${MAX_OPEN_FETCHES} requests open at once`)
      })
    let protocol: string
    try {
      protocol = new URL(url).protocol
    } catch {
      return send({
        _tag: "FetchError",
        req,
        error: { name: "TypeError", message: "fetch failed: invalid URL" }
      })
    }
    if (protocol !== "http:" && protocol !== "https:") {
      const reason = `only http: and https: URLs can be fetched, not ${protocol}`
      denied(url, reason)
      return send({ _tag: "FetchError", req, error: refusal(url, reason) })
    }
    const entry: Open = { controller: new AbortController(), received: 0 }
    open.set(req, entry)
    fetch(url, {
      method: message.method,
      headers: message.headers.map(([k, v]) => [k, v]),
      body: message.body,
      redirect: message.redirect,
      signal: entry.controller.signal,
      dispatcher: egress.dispatcher
    }).then(
      (response) => {
        if (open.get(req) !== entry) return void response.body?.cancel().catch(() => undefined)
        entry.reader = response.body?.getReader()
        watchIdle(req, entry)
        send({
          _tag: "FetchHead",
          req,
          status: response.status,
          statusText: response.statusText,
          headers: [...response.headers],
          url: response.url,
          redirected: response.redirected
        })
      },
      (e: unknown) => {
        if (open.get(req) !== entry) return
        const reason = deniedReason(e)
        if (reason !== undefined) denied(url, reason)
        fail(req, reason !== undefined ? refusal(url, reason) : networkError(rootMessage(e)))
      }
    )
  }

  const pull = (req: number) => {
    const entry = open.get(req)
    if (!entry) return send({ _tag: "FetchError", req, error: networkError(`no open response ${req}`) })
    const reader = entry.reader
    if (!reader) {
      drop(req)
      return send({ _tag: "FetchEnd", req })
    }
    clearTimeout(entry.idle)
    reader.read().then(
      ({ done, value }) => {
        if (open.get(req) !== entry) return
        if (done) {
          drop(req)
          return send({ _tag: "FetchEnd", req })
        }
        entry.received += value.byteLength
        if (entry.received > MAX_RESPONSE_BYTES)
          return fail(
            req,
            networkError(`the response is larger than ${MAX_RESPONSE_BYTES / (1024 * 1024)} MB`)
          )
        watchIdle(req, entry)
        send({ _tag: "FetchChunk", req, data: value })
      },
      (e: unknown) => {
        if (open.get(req) === entry) fail(req, networkError(rootMessage(e)))
      }
    )
  }

  return {
    handle: (message: RelayRequest) => {
      switch (message._tag) {
        case "FetchStart":
          return start(message)
        case "FetchPull":
          return pull(message.req)
        case "FetchAbort":
          return drop(message.req)
      }
    },
    /** The child is gone: every request it had open is aborted. */
    close: () => {
      for (const req of [...open.keys()]) drop(req)
    }
  }
}
