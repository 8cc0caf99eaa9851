/**
 * The `/live` WebSocket against a DataHub streaming the fake Kraken (accelerated clock): what a
 * client subscribes to it receives, forming and closed, and nothing else; unreadable messages get
 * an `error` frame and the connection stays; idle connections get heartbeats; a client that stops
 * reading is closed with 4008 and a reason while the others carry on.
 */
import { HttpServer } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { CLOSE_TOO_SLOW, type LiveServerMessage, ProviderName } from "@quasar/domain"
import { TestDatabase } from "@quasar/server/testing"
import { Context, Duration, Effect, Layer } from "effect"
import WebSocket from "ws"
import { LiveHub, seriesKey } from "../../src/live/LiveHub"
import { connect } from "./liveClient"
import { acceleratedNow, fakeKraken, liveApp, liveStatus, MINUTE, subscribeLive } from "./support"

const T0 = Date.UTC(2024, 0, 15, 12, 0) + 5_000
const XBT = { provider: ProviderName.make("kraken"), symbol: "XBT/USD", timeframe: "1m" } as const
const ETH = { ...XBT, symbol: "ETH/USD" } as const

const setUp = Effect.gen(function* () {
  const now = acceleratedNow(T0)
  const fake = yield* fakeKraken(now)
  const app = yield* Layer.build(
    liveApp(yield* TestDatabase.fresh, fake, now, {
      feed: {
        heartbeatEvery: Duration.millis(400),
        clientBuffer: 64,
        socketBufferBytes: 32 * 1024,
        maxSeriesPerClient: 3
      }
    })
  )
  yield* Effect.provide(subscribeLive(["XBT/USD", "ETH/USD", "SOL/USD", "LTC/USD"]), app)
  const { address } = Context.get(app, HttpServer.HttpServer)
  const port = address._tag === "TcpAddress" ? address.port : 0
  return { now, fake, app, url: `ws://127.0.0.1:${port}/live`, http: `http://127.0.0.1:${port}/live` }
})

const bars = (received: ReadonlyArray<LiveServerMessage>, symbol: string, closed: boolean) =>
  received.flatMap((m) => (m._tag === "bar" && m.symbol === symbol && m.closed === closed ? [m] : []))

/**
 * Subscribes XBT/USD and checks what arrives: forming and closed bars of it only, each closed
 * bar's last version with the exchange's final values, nothing after unsubscribing.
 */
const streamsSubscribedSeries = Effect.scoped(
  Effect.gen(function* () {
    const { fake, url } = yield* setUp
    const client = yield* connect(url)
    client.send({ _tag: "ping", id: 7 })
    client.send({ _tag: "subscribe", ...XBT })
    yield* client.waitFor(
      "pong and subscribed",
      (r) => r.some((m) => m._tag === "pong" && m.id === 7) && r.some((m) => m._tag === "subscribed")
    )
    expect(client.received.find((m) => m._tag === "subscribed")).toEqual({ _tag: "subscribed", ...XBT })
    // A bar the provider's timer closed early (a busy machine) is closed again with the
    // exchange's final values: each bar's last closed version is the truth.
    const finalVersions = (r: ReadonlyArray<LiveServerMessage>) => [
      ...new Map(bars(r, "XBT/USD", true).map((m) => [m.bar.ts, m.bar] as const)).values()
    ]
    const isTruth = (b: ReturnType<typeof bars>[number]["bar"]) => {
      const truth = fake.bar("XBT/USD", "1m", Date.parse(b.ts))
      return b.open === truth.open && b.high === truth.high && b.low === truth.low && b.close === truth.close
    }
    yield* client.waitFor(
      "forming and closed bars",
      (r) => bars(r, "XBT/USD", false).length >= 3 && finalVersions(r).length >= 3
    )
    // A revision may still be on its way: wait for it, then show what differs if anything does.
    yield* client
      .waitFor("final values for every closed bar", (r) => finalVersions(r).every(isTruth))
      .pipe(Effect.ignore)
    const wrong = finalVersions(client.received)
      .filter((b) => !isTruth(b))
      .map((b) => ({ sent: b, truth: fake.bar("XBT/USD", "1m", Date.parse(b.ts)) }))
    expect(wrong).toEqual([])
    expect(client.received.some((m) => m._tag === "bar" && m.symbol !== "XBT/USD")).toBe(false)
    // Unsubscribed: no more bars of it.
    client.send({ _tag: "unsubscribe", ...XBT })
    yield* client.waitFor("unsubscribed", (r) => r.some((m) => m._tag === "unsubscribed"))
    const count = client.received.length
    yield* Effect.sleep(1_500)
    expect(client.received.slice(count).filter((m) => m._tag === "bar")).toEqual([])
  })
)

/**
 * Blocks the event loop now and then, as a busy machine does to a process: timers fire late, so
 * the provider's close timer guesses before the exchange's final update is read.
 */
const stallEventLoop = (everyMs: number, forMs: number) =>
  Effect.acquireRelease(
    Effect.sync(() =>
      setInterval(() => {
        const until = Date.now() + forMs
        while (Date.now() < until) {
          // Busy on purpose: nothing else in this process runs meanwhile.
        }
      }, everyMs)
    ),
    (timer) => Effect.sync(() => clearInterval(timer))
  )

describe("the /live WebSocket", () => {
  it.live(
    "streams the subscribed series' forming and closed bars, and nothing of the others",
    () => streamsSubscribedSeries,
    60_000
  )

  it.live(
    "in a process whose event loop stalls, every closed bar still ends with its final values",
    () => Effect.scoped(Effect.zipRight(stallEventLoop(1_300, 700), streamsSubscribedSeries)),
    90_000
  )

  it.live(
    "answers malformed messages with an error frame and keeps the connection; refuses a plain GET",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const { url, http, app } = yield* setUp
          const client = yield* connect(url)
          const malformed = [
            "not json",
            '{"_tag":"subscribe"}',
            '{"_tag":"dance","provider":"kraken"}',
            JSON.stringify({ _tag: "subscribe", ...XBT, timeframe: "7m" }),
            "x".repeat(5_000)
          ]
          for (const m of malformed) client.send(m)
          yield* client.waitFor(
            "an error per message",
            (r) => r.filter((m) => m._tag === "error").length === 5
          )
          const errors = client.received.flatMap((m) => (m._tag === "error" ? [m.message] : []))
          expect(errors[0]).toContain("unreadable message")
          expect(errors[0]).toContain('{"_tag":"subscribe"')
          expect(errors[4]).toContain("longer than")
          // Still open and answering; a series nobody streams is refused with the reason, and the
          // limit of series per connection is said, not silently applied.
          client.send({ _tag: "subscribe", ...XBT, symbol: "A/USD" })
          yield* client.waitFor("a refusal", (r) => r.filter((m) => m._tag === "error").length === 6)
          expect(client.received.filter((m) => m._tag === "error").at(-1)).toMatchObject({
            message: expect.stringContaining("A/USD 1m is not collected live")
          })
          for (const symbol of ["XBT/USD", "ETH/USD", "SOL/USD", "LTC/USD"])
            client.send({ _tag: "subscribe", ...XBT, symbol })
          client.send({ _tag: "ping", id: 1 })
          yield* client.waitFor("pong", (r) => r.some((m) => m._tag === "pong"))
          expect(client.received.filter((m) => m._tag === "subscribed")).toHaveLength(3)
          expect(client.received.filter((m) => m._tag === "error").at(-1)).toMatchObject({
            message: expect.stringContaining("at most 3 series")
          })
          expect((yield* Effect.provide(liveStatus, app)).clients).toBe(1)
          const plain = yield* Effect.promise(() => fetch(http))
          expect(plain.status).toBe(426)
        })
      ),
    60_000
  )

  it.live(
    "sends heartbeats on an idle connection",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const { url } = yield* setUp
          const client = yield* connect(url)
          yield* Effect.sleep(2_000)
          const heartbeats = client.received.filter((m) => m._tag === "heartbeat")
          expect(heartbeats.length).toBeGreaterThanOrEqual(3)
          expect(heartbeats[0]).toEqual({ _tag: "heartbeat" })
        })
      ),
    60_000
  )

  it.live(
    "closes a client that stops reading with 4008 and a reason; another client carries on",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const { url, app } = yield* setUp
          const slow = yield* connect(url)
          const other = yield* connect(url)
          slow.send({ _tag: "subscribe", ...XBT })
          other.send({ _tag: "subscribe", ...ETH })
          yield* slow.waitFor("subscribed", (r) => r.some((m) => m._tag === "subscribed"))
          yield* other.waitFor("subscribed", (r) => r.some((m) => m._tag === "subscribed"))
          slow.ws.pause()
          // Far more than the socket buffers hold: published straight into the hub, as a busy feed would.
          const hub = Context.get(app, LiveHub)
          const bar = { ts: T0 - MINUTE, open: 1, high: 2, low: 0.5, close: 1.5, volume: 10 }
          // Closed bars (forming ones would replace each other in the buffer; see the next test).
          for (let i = 0; i < 60; i++) {
            yield* hub.publish(
              Array.from({ length: 500 }, (_, j) => ({
                key: seriesKey(XBT),
                ...XBT,
                bar: { ...bar, ts: bar.ts + (i * 500 + j) * MINUTE },
                closed: true
              }))
            )
            yield* Effect.sleep(5)
          }
          yield* Effect.sleep(500)
          slow.ws.resume()
          const closed = yield* Effect.promise(() => slow.closed).pipe(Effect.timeout("20 seconds"))
          expect(closed.code).toBe(CLOSE_TOO_SLOW)
          expect(closed.reason).toContain("too slow")
          other.send({ _tag: "ping", id: 2 })
          yield* other.waitFor("pong", (r) => r.some((m) => m._tag === "pong" && m.id === 2))
          expect(other.ws.readyState).toBe(WebSocket.OPEN)
          expect(other.received.some((m) => m._tag === "bar" && m.symbol === "XBT/USD")).toBe(false)
        })
      ),
    60_000
  )
  it.live(
    "a client reading slower than the feed gets each series' newest forming bar, not a backlog",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const { url, app } = yield* setUp
          const client = yield* connect(url)
          client.send({ _tag: "subscribe", ...XBT })
          yield* client.waitFor("subscribed", (r) => r.some((m) => m._tag === "subscribed"))
          client.ws.pause()
          const hub = Context.get(app, LiveHub)
          const bar = { ts: T0 + 10 * MINUTE, open: 1, high: 2, low: 0.5, close: 1.5, volume: 0 }
          // 30,000 versions of one forming bar while the client reads nothing (buffer: 64).
          for (let i = 1; i <= 60; i++) {
            yield* hub.publish(
              Array.from({ length: 500 }, (_, j) => ({
                key: seriesKey(XBT),
                ...XBT,
                bar: { ...bar, volume: (i - 1) * 500 + j + 1 },
                closed: false
              }))
            )
            yield* Effect.sleep(5)
          }
          client.ws.resume()
          yield* client.waitFor("the newest version", (r) =>
            bars(r, "XBT/USD", false).some((m) => m.bar.volume === 30_000)
          )
          const seen = bars(client.received, "XBT/USD", false).filter((m) => Date.parse(m.bar.ts) === bar.ts)
          // Versions arrive in order, far fewer than were published, and the connection stays open.
          expect(seen.length).toBeLessThan(30_000)
          expect(seen.map((m) => m.bar.volume)).toEqual(
            [...seen.map((m) => m.bar.volume)].sort((a, b) => a - b)
          )
          expect(client.ws.readyState).toBe(WebSocket.OPEN)
        })
      ),
    60_000
  )
})
