/**
 * `LiveBars` over DataHub's `/live` WebSocket (@effect/platform's Socket over the web-standard
 * WebSocket; main.ts provides Node's constructor). One connection per call: it
 * subscribes each series, decodes every frame with LiveFeed's schema, passes on closed bars only,
 * and reconnects on any end or error with a capped exponential backoff. Before connecting, a
 * missing DataHub subscription (live) is created through the derived client, so that the feed has
 * something to stream.
 */
import { Socket } from "@effect/platform"
import { LIVE_PATH, LiveClientMessage, LiveServerMessage } from "@quasar/domain"
import { ServiceConfig } from "@quasar/server"
import { Duration, Effect, Layer, Option, Queue, Schedule, Schema, Stream } from "effect"
import { type LiveBar, LiveBars, type LiveSeries, sameSeries } from "./LiveBars"
import { LiveSubscriptions } from "./LiveSubscriptions"

const encodeClient = Schema.encodeSync(Schema.parseJson(LiveClientMessage))
const decodeServer = Schema.decodeUnknownOption(Schema.parseJson(LiveServerMessage))
const textDecoder = new TextDecoder()

/** 0.5 s, doubling, at most 30 s apart, jittered so that many deployments do not reconnect in step. */
export const reconnect = Schedule.exponential(Duration.millis(500)).pipe(
  Schedule.union(Schedule.spaced(Duration.seconds(30))),
  Schedule.jittered
)

export const liveUrl = (datahubUrl: string) => {
  const url = new URL(LIVE_PATH, datahubUrl)
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:"
  return url.toString()
}

/** One connection's closed bars; fails when the connection ends, so that the caller reconnects. */
const connection = (url: string, series: ReadonlyArray<LiveSeries>) =>
  Stream.unwrapScoped(
    Effect.gen(function* () {
      const socket = yield* Socket.makeWebSocket(url)
      const bars = yield* Queue.unbounded<LiveBar>()
      const write = yield* socket.writer
      const onFrame = (data: string | Uint8Array) => {
        const message = decodeServer(typeof data === "string" ? data : textDecoder.decode(data))
        if (Option.isNone(message) || message.value._tag !== "bar" || !message.value.closed) return
        const { provider, symbol, timeframe, bar } = message.value
        const key = series.find((s) => sameSeries(s, { provider, symbol, timeframe }))
        if (key === undefined) return
        return Queue.offer(bars, {
          series: key,
          ts: Date.parse(bar.ts),
          open: bar.open,
          high: bar.high,
          low: bar.low,
          close: bar.close,
          volume: bar.volume
        })
      }
      const running = yield* socket
        .runRaw(onFrame, {
          onOpen: Effect.forEach(series, (s) => write(encodeClient({ _tag: "subscribe", ...s })), {
            discard: true
          }).pipe(Effect.orDie)
        })
        .pipe(Effect.forkScoped)
      const ended = running.await.pipe(
        Effect.flatMap(() => Effect.fail(new Error(`the live feed at ${url} closed`)))
      )
      return Stream.fromQueue(bars).pipe(Stream.merge(Stream.fromEffect(ended), { haltStrategy: "either" }))
    })
  )

/**
 * The closed bars of `series` from the feed at `url`, for ever: `ensure` runs before each
 * connection, and `retry` paces the reconnections.
 */
export const closedBars = (
  url: string,
  series: ReadonlyArray<LiveSeries>,
  ensure: Effect.Effect<void>,
  retry: Schedule.Schedule<unknown, unknown> = reconnect
): Stream.Stream<LiveBar, never, Socket.WebSocketConstructor> =>
  Stream.fromEffect(ensure).pipe(
    Stream.flatMap(() => connection(url, series)),
    Stream.tapError((e) =>
      Effect.logWarning("live feed lost; reconnecting").pipe(Effect.annotateLogs({ url, error: String(e) }))
    ),
    Stream.retry(retry),
    Stream.catchAll(() => Stream.empty)
  )

/** Needs the WebSocket constructor: main.ts gives Node's, a browser-like runtime the global one. */
export const layer = Layer.effect(
  LiveBars,
  Effect.gen(function* () {
    const config = yield* ServiceConfig
    const subscriptions = yield* LiveSubscriptions
    const webSocket = yield* Socket.WebSocketConstructor
    const url = liveUrl(config.datahubUrl)
    return {
      closed: (series) =>
        closedBars(url, series, subscriptions.ensure(series)).pipe(
          Stream.provideService(Socket.WebSocketConstructor, webSocket)
        )
    }
  })
).pipe(Layer.provide(LiveSubscriptions.layer))
