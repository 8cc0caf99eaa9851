/**
 * One `/live` client: the series it watches, its messages, and a bounded buffer between the hub
 * and its socket.
 *
 * Why two bounds: `ws.send` never waits, so a client that stops reading would otherwise grow the
 * socket's buffer without limit. The sender pauses while the socket holds more than
 * `socketBufferBytes` unsent; meanwhile this client's messages wait in a buffer of
 * `clientBuffer` messages, and once that is full the client is closed with CLOSE_TOO_SLOW (4008)
 * and a reason, instead of DataHub buffering for it. Other clients never wait for it: the hub's
 * PubSub is drained at once into each client's own buffer.
 *
 * A forming bar is a state: one still waiting in the buffer is replaced, in its place, by a newer
 * version of the same bar, so a client reading a little slower than a busy feed gets every
 * series' newest state instead of falling behind. Closed bars are all delivered, in order; it is
 * those (and replies) that fill the buffer of a client that stopped reading.
 *
 * A message the server cannot read gets an `error` frame; the connection stays open.
 */
import { Socket } from "@effect/platform"
import { CLOSE_TOO_SLOW, LiveClientMessage, type LiveServerMessage } from "@quasar/domain"
import { Duration, Effect, Either, Option, ParseResult, Queue, Schema, type Scope } from "effect"
import { barFrame } from "./barFrame"
import { LiveConfig } from "./LiveConfig"
import { LiveHub, type LiveUpdate, seriesKey } from "./LiveHub"
import { textFrames } from "./textFrames"

const decodeClient = Schema.decodeUnknownEither(Schema.parseJson(LiveClientMessage))
const MAX_MESSAGE_CHARS = 4_096
const EXAMPLE = '{"_tag":"subscribe","provider":"kraken","symbol":"BTC/USD","timeframe":"1m"}'

/**
 * The encoded form of LiveServerMessage equals its type (no transformations: strings, numbers,
 * literals, brands), so JSON.stringify of a typed value is the schema's encoding, without paying
 * for a schema encode per bar on the hot path.
 */
const frame = (message: LiveServerMessage): string => JSON.stringify(message)

/** What the sender reads of Node's `ws` WebSocket, which the platform hands to message handlers. */
interface RawWebSocket {
  readonly bufferedAmount: number
  readonly extensions?: string
  readonly readyState?: number
  readonly _socket?: { write(data: Uint8Array): boolean }
}
const OPEN = 1

/**
 * The TCP socket under a `ws` connection, when a batch of frames can be written to it directly:
 * open, and no extension negotiated (frames are then plain RFC 6455 frames, which `ws` itself
 * writes synchronously, so nothing of its own can be queued in between).
 */
const directSocket = (raw: RawWebSocket | undefined) =>
  raw !== undefined && raw.extensions === "" && raw.readyState === OPEN ? raw._socket : undefined

const problemOf = (error: ParseResult.ParseError): string => {
  const [issue] = ParseResult.ArrayFormatter.formatErrorSync(error)
  if (!issue) return error.message
  return issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message
}

export const serveClient = (socket: Socket.Socket): Effect.Effect<void, never, LiveHub | Scope.Scope> =>
  Effect.gen(function* () {
    const hub = yield* LiveHub
    const { feed: limits } = yield* LiveConfig
    yield* hub.connected
    const write = yield* socket.writer
    /** A frame ready to send, or a bar encoded only when sent (it may be replaced before). */
    type Pending = string | LiveUpdate
    let outbox: Array<Pending> = []
    /** Series key → index in `outbox` of its forming bar waiting to be sent. */
    const formingAt = new Map<string, number>()
    const wake = yield* Queue.sliding<void>(1)
    const watching = new Set<string>()
    // The raw socket, for its unsent byte count; the platform hands it to message handlers only.
    let raw: RawWebSocket | undefined
    let closing = false
    let lastSentAt = Date.now()

    const tooSlow = Effect.suspend(() => {
      if (closing) return Effect.void
      closing = true
      const reason = `too slow: over ${limits.clientBuffer} messages waiting; read faster or watch fewer series`
      return Effect.logWarning("live client closed: too slow").pipe(
        Effect.annotateLogs({ watching: watching.size, buffer: limits.clientBuffer }),
        Effect.zipRight(write(new Socket.CloseEvent(CLOSE_TOO_SLOW, reason))),
        Effect.ignore
      )
    })
    /** Queues `pending`; false when the buffer is full (the client is too slow). */
    const enqueue = (pending: Pending): boolean => {
      if (typeof pending !== "string") {
        if (!pending.closed) {
          const at = formingAt.get(pending.key)
          if (at !== undefined) {
            outbox[at] = pending
            return true
          }
          if (outbox.length >= limits.clientBuffer) return false
          formingAt.set(pending.key, outbox.length)
        } else formingAt.delete(pending.key)
      }
      if (outbox.length >= limits.clientBuffer) return false
      outbox.push(pending)
      Queue.unsafeOffer(wake, undefined)
      return true
    }
    const send = (pending: Pending) =>
      Effect.suspend(() => (closing || enqueue(pending) ? Effect.void : tooSlow))
    const reply = (message: LiveServerMessage) => send(frame(message))
    const refuse = (message: string) => reply({ _tag: "error", message })

    const onMessage = (data: string | Uint8Array) =>
      Effect.gen(function* () {
        if (raw === undefined) raw = Option.getOrUndefined(yield* Effect.serviceOption(Socket.WebSocket))
        const text = typeof data === "string" ? data : new TextDecoder().decode(data)
        if (text.length > MAX_MESSAGE_CHARS)
          return yield* refuse(
            `message longer than ${MAX_MESSAGE_CHARS} characters; send one JSON message per frame`
          )
        const decoded = decodeClient(text)
        if (Either.isLeft(decoded))
          return yield* refuse(
            `unreadable message (${problemOf(decoded.left)}); send JSON such as ${EXAMPLE}`
          )
        const m = decoded.right
        if (m._tag === "ping")
          return yield* reply({ _tag: "pong", ...(m.id === undefined ? {} : { id: m.id }) })
        const key = seriesKey(m)
        const series = { provider: m.provider, symbol: m.symbol, timeframe: m.timeframe }
        if (m._tag === "unsubscribe") {
          watching.delete(key)
          return yield* reply({ _tag: "unsubscribed", ...series })
        }
        // A series nobody streams would answer `subscribed` and then stay silent forever.
        if (!(yield* hub.isStreamed(key)))
          return yield* refuse(
            `${series.provider} ${series.symbol} ${series.timeframe} is not collected live: subscribe it with mode live or both (or switch its subscription to one of them, or resume it if paused), then subscribe here again`
          )
        if (!watching.has(key) && watching.size >= limits.maxSeriesPerClient)
          return yield* refuse(
            `at most ${limits.maxSeriesPerClient} series per connection; unsubscribe some first`
          )
        watching.add(key)
        yield* reply({ _tag: "subscribed", ...series })
        // The current state at once, rather than at the next update.
        const latest = hub.latest(key)
        if (latest !== undefined) yield* send(latest)
      })

    // The hub's updates, filtered to this client's series, into its bounded buffer.
    const updates = yield* hub.subscribe
    yield* Effect.forkScoped(
      Effect.forever(
        Effect.flatMap(Queue.takeBetween(updates, 1, Number.MAX_SAFE_INTEGER), (batches) =>
          Effect.suspend(() => {
            if (closing) return Effect.void
            for (const batch of batches)
              for (const u of batch) if (watching.has(u.key) && !enqueue(u)) return tooSlow
            return Effect.void
          })
        )
      )
    )
    // The sender: waits while the socket holds too much unsent, so the buffer above fills instead.
    yield* Effect.forkScoped(
      Effect.forever(
        Effect.gen(function* () {
          yield* Queue.take(wake)
          if (closing) return yield* Effect.never
          const pending = outbox
          outbox = []
          formingAt.clear()
          const texts = pending.map((p) => (typeof p === "string" ? p : barFrame(p)))
          const direct = directSocket(raw)
          if (direct !== undefined) direct.write(textFrames(texts))
          else yield* Effect.forEach(texts, write, { discard: true })
          lastSentAt = Date.now()
          while (raw !== undefined && raw.bufferedAmount > limits.socketBufferBytes && !closing)
            yield* Effect.sleep(Duration.millis(10))
        })
      ).pipe(Effect.ignore)
    )
    // Heartbeats while nothing else is sent.
    const every = Duration.toMillis(limits.heartbeatEvery)
    yield* Effect.forkScoped(
      Effect.forever(
        Effect.zipRight(
          Effect.sleep(Duration.millis(every / 2)),
          Effect.suspend(() =>
            Date.now() - lastSentAt >= every / 2 ? reply({ _tag: "heartbeat" }) : Effect.void
          )
        )
      )
    )
    yield* socket
      .runRaw(onMessage)
      .pipe(
        Effect.catchAll((e) =>
          Socket.isSocketError(e) && e.reason === "Close"
            ? Effect.void
            : Effect.logDebug("live client socket failed").pipe(Effect.annotateLogs({ error: String(e) }))
        )
      )
  }).pipe(Effect.withSpan("LiveFeed.client"))
