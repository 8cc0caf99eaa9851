/**
 * A series' mode is what the last request asked for: posting an existing subscription with
 * another mode switches it (here from history only to live), and `/live` refuses a series nobody
 * streams with an error frame that says why, instead of `subscribed` followed by silence.
 */
import { HttpServer } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { type LiveServerMessage, ProviderName, LiveServerMessage as ServerMessage } from "@quasar/domain"
import { TestDatabase } from "@quasar/server/testing"
import { Context, Effect, Layer, Schema } from "effect"
import WebSocket from "ws"
import { acceleratedNow, adminClient, eventually, fakeKraken, liveApp, liveStatus } from "./support"

const T0 = Date.UTC(2024, 0, 15, 12, 0) + 5_000
const decode = Schema.decodeUnknownSync(Schema.parseJson(ServerMessage))
const ETH = { provider: ProviderName.make("kraken"), symbol: "ETH/USD", timeframe: "1m" } as const

const connect = (url: string) =>
  Effect.acquireRelease(
    Effect.promise(
      () =>
        new Promise<{ ws: WebSocket; received: Array<LiveServerMessage> }>((resolve, reject) => {
          const ws = new WebSocket(url)
          const received: Array<LiveServerMessage> = []
          ws.on("message", (data) => received.push(decode(String(data))))
          ws.once("error", reject)
          ws.once("open", () => resolve({ ws, received }))
        })
    ),
    ({ ws }) => Effect.sync(() => ws.terminate())
  )

const until = (what: string, received: ReadonlyArray<LiveServerMessage>, test: () => boolean) =>
  eventually(
    what,
    Effect.sync(() => test()),
    (ok) => ok,
    "15 seconds"
  ).pipe(Effect.mapError(() => new Error(`no ${what} in ${JSON.stringify(received.slice(-5))}`)))

describe("subscription modes", () => {
  it.live(
    "a history-only series is refused on /live; posting it again with mode live switches it and it streams",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const now = acceleratedNow(T0)
          const fake = yield* fakeKraken(now)
          const app = yield* Layer.build(liveApp(yield* TestDatabase.fresh, fake, now))
          const api = yield* Effect.provide(adminClient, app)
          const [history] = yield* api.subscriptions.create({
            payload: { ...ETH, timeframes: ["1m"], mode: "history" }
          })
          expect(history?.mode).toBe("history")

          const { address } = Context.get(app, HttpServer.HttpServer)
          const port = address._tag === "TcpAddress" ? address.port : 0
          const client = yield* connect(`ws://127.0.0.1:${port}/live`)
          client.ws.send(JSON.stringify({ _tag: "subscribe", ...ETH }))
          yield* until("error frame", client.received, () => client.received.some((m) => m._tag === "error"))
          const refused = client.received.find((m) => m._tag === "error")
          expect(refused).toMatchObject({ _tag: "error" })
          expect(refused?._tag === "error" && refused.message).toContain("ETH/USD 1m is not collected live")
          expect(client.received.some((m) => m._tag === "subscribed")).toBe(false)

          const [switched] = yield* api.subscriptions.create({
            payload: { ...ETH, timeframes: ["1m"], mode: "live" }
          })
          expect(switched?.id).toBe(history?.id)
          expect(switched?.mode).toBe("live")
          expect((yield* api.subscriptions.get({ path: { id: history!.id } })).mode).toBe("live")
          yield* Effect.provide(
            eventually("ETH/USD is streamed", liveStatus, (s) =>
              s.connections.some((c) => c.symbols.includes("ETH/USD"))
            ),
            app
          )
          client.ws.send(JSON.stringify({ _tag: "subscribe", ...ETH }))
          yield* until("subscribed and bars", client.received, () =>
            client.received.some((m) => m._tag === "bar" && m.symbol === "ETH/USD")
          )
          expect(client.received.filter((m) => m._tag === "subscribed")).toEqual([
            { _tag: "subscribed", ...ETH }
          ])
        })
      ),
    60_000
  )
})
