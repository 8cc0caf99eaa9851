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
 *
 * The buffer's state and its rules are LiveClientState's reducer; this module feeds it the
 * socket's and the hub's events (with the time from the Clock) and performs what it asks for.
 */
import { Socket } from "@effect/platform"
import { LiveClientMessage, type LiveServerMessage } from "@quasar/domain"
import { Clock, Duration, Effect, Either, Option, ParseResult, Queue, Schema, type Scope } from "effect"
import { barFrame } from "./barFrame"
import {
  initialLiveClient,
  type LiveClientEvent,
  type LiveClientOutput,
  type Pending,
  stepLiveClient
} from "./LiveClientState"
import { LiveConfig } from "./LiveConfig"
import { LiveHub, seriesKey } from "./LiveHub"
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
    const wake = yield* Queue.sliding<void>(1)
    // The raw socket, for its unsent byte count; the platform hands it to message handlers only.
    let raw: RawWebSocket | undefined
    let state = initialLiveClient(
      {
        clientBuffer: limits.clientBuffer,
        socketBufferBytes: limits.socketBufferBytes,
        maxSeriesPerClient: limits.maxSeriesPerClient,
        heartbeatEveryMillis: Duration.toMillis(limits.heartbeatEvery)
      },
      yield* Clock.currentTimeMillis
    )

    /**
     * Steps the buffer and performs what concerns the socket (waking the sender, closing a slow
     * client); returns the outputs for the caller's own part. Synchronous up to the close, so no
     * other event comes in between a step and its outputs.
     */
    const dispatch = (event: LiveClientEvent): Effect.Effect<ReadonlyArray<LiveClientOutput>> =>
      Effect.suspend(() => {
        const step = stepLiveClient(state, event)
        state = step.state
        let close: Effect.Effect<void> = Effect.void
        for (const output of step.outputs)
          if (output._tag === "Wake") Queue.unsafeOffer(wake, undefined)
          else if (output._tag === "Close")
            close = Effect.logWarning("live client closed: too slow").pipe(
              Effect.annotateLogs({ watching: output.watching, buffer: limits.clientBuffer }),
              Effect.zipRight(write(new Socket.CloseEvent(output.code, output.reason))),
              Effect.ignore
            )
        return Effect.as(close, step.outputs)
      })
    const reply = (message: LiveServerMessage) =>
      Effect.asVoid(dispatch({ _tag: "Reply", frame: frame(message) }))
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
          yield* dispatch({ _tag: "Unwatch", key })
          return yield* reply({ _tag: "unsubscribed", ...series })
        }
        // A series nobody streams would answer `subscribed` and then stay silent forever.
        if (!(yield* hub.isStreamed(key)))
          return yield* refuse(
            `${series.provider} ${series.symbol} ${series.timeframe} is not collected live: subscribe it with mode live or both (or switch its subscription to one of them, or resume it if paused), then subscribe here again`
          )
        for (const output of yield* dispatch({ _tag: "Watch", key }))
          if (output._tag === "Refuse") return yield* refuse(output.message)
        yield* reply({ _tag: "subscribed", ...series })
        // The current state at once, rather than at the next update.
        const latest = hub.latest(key)
        if (latest !== undefined) yield* dispatch({ _tag: "Latest", update: latest })
      })

    // The hub's updates, filtered to this client's series, into its bounded buffer.
    const updates = yield* hub.subscribe
    yield* Effect.forkScoped(
      Effect.forever(
        Effect.flatMap(Queue.takeBetween(updates, 1, Number.MAX_SAFE_INTEGER), (batches) =>
          dispatch({ _tag: "Updates", batches })
        )
      )
    )
    // The sender: waits while the socket holds too much unsent, so the buffer above fills instead.
    const pauseWhileFull: Effect.Effect<void> = Effect.suspend(() =>
      Effect.flatMap(dispatch({ _tag: "Buffered", bytes: raw?.bufferedAmount }), (outputs) => {
        const pause = outputs.find((o) => o._tag === "Pause")
        return pause === undefined
          ? Effect.void
          : Effect.zipRight(Effect.sleep(Duration.millis(pause.millis)), pauseWhileFull)
      })
    )
    const sendAll = (pending: ReadonlyArray<Pending>) =>
      Effect.gen(function* () {
        const texts = pending.map((p) => (typeof p === "string" ? p : barFrame(p)))
        const direct = directSocket(raw)
        if (direct !== undefined) direct.write(textFrames(texts))
        else yield* Effect.forEach(texts, write, { discard: true })
        yield* dispatch({ _tag: "Sent", now: yield* Clock.currentTimeMillis })
        yield* pauseWhileFull
      })
    yield* Effect.forkScoped(
      Effect.forever(
        Effect.gen(function* () {
          yield* Queue.take(wake)
          for (const output of yield* dispatch({ _tag: "Take" })) {
            if (output._tag === "Halt") return yield* Effect.never
            if (output._tag === "Send") yield* sendAll(output.pending)
          }
        })
      ).pipe(Effect.ignore)
    )
    // Heartbeats while nothing else is sent.
    yield* Effect.forkScoped(
      Effect.forever(
        Effect.gen(function* () {
          yield* Effect.sleep(Duration.millis(Duration.toMillis(limits.heartbeatEvery) / 2))
          for (const output of yield* dispatch({ _tag: "Tick", now: yield* Clock.currentTimeMillis }))
            if (output._tag === "Heartbeat") yield* reply({ _tag: "heartbeat" })
        })
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
