import { NodeSocket } from "@effect/platform-node"
import { expect, it } from "@effect/vitest"
import { ProviderName } from "@quasar/domain"
import { Chunk, Effect, Ref, Schedule, Stream } from "effect"
import { WebSocketServer } from "ws"
import { closedBars, liveUrl } from "../../src/deploy/WebSocketLiveBars"

const series = { provider: ProviderName.make("synthetic"), symbol: "SYN/USD", timeframe: "1m" as const }
const point = (minute: number) => ({
  ts: new Date(Date.UTC(2024, 0, 1, 0, minute)).toISOString(),
  open: 1,
  high: 2,
  low: 0.5,
  close: 1.5,
  volume: 3,
  vwap: null,
  trades: null
})

/** A `/live` stand-in: each connection gets, once it subscribes, a forming bar, junk, a closed bar, then is closed. */
const server = Effect.acquireRelease(
  Effect.async<{ readonly port: number; readonly wss: WebSocketServer }>((resume) => {
    let connections = 0
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, path: "/live" })
    wss.on("connection", (socket) => {
      const minute = connections++
      socket.on("message", (data) => {
        const message = JSON.parse(String(data))
        if (message._tag !== "subscribe") return
        socket.send(JSON.stringify({ _tag: "subscribed", ...series }))
        socket.send(JSON.stringify({ _tag: "bar", ...series, bar: point(minute), closed: false }))
        socket.send("not json")
        socket.send(
          JSON.stringify({ _tag: "bar", ...series, symbol: "OTHER/USD", bar: point(minute), closed: true })
        )
        socket.send(JSON.stringify({ _tag: "bar", ...series, bar: point(minute), closed: true }))
        socket.close()
      })
    })
    wss.on("listening", () => {
      const address = wss.address()
      resume(
        Effect.succeed({ port: typeof address === "object" && address !== null ? address.port : 0, wss })
      )
    })
  }),
  ({ wss }) => Effect.async<void>((resume) => wss.close(() => resume(Effect.void)))
)

it.scoped("closed bars come through, the rest is dropped, and a closed connection is reconnected", () =>
  Effect.gen(function* () {
    const { port } = yield* server
    const ensured = yield* Ref.make(0)
    const bars = yield* closedBars(
      liveUrl(`http://127.0.0.1:${port}`),
      [series],
      Ref.update(ensured, (n) => n + 1),
      Schedule.forever
    ).pipe(Stream.take(3), Stream.runCollect, Effect.provide(NodeSocket.layerWebSocketConstructor))
    expect(Chunk.toArray(bars).map((b) => [b.series.symbol, b.ts, b.close])).toEqual([
      ["SYN/USD", Date.UTC(2024, 0, 1, 0, 0), 1.5],
      ["SYN/USD", Date.UTC(2024, 0, 1, 0, 1), 1.5],
      ["SYN/USD", Date.UTC(2024, 0, 1, 0, 2), 1.5]
    ])
    // Subscriptions are made sure of before every connection.
    expect(yield* Ref.get(ensured)).toBeGreaterThanOrEqual(3)
  })
)
