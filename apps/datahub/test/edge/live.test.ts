/**
 * `/live` for anonymous clients that try to make DataHub hold memory: a frame larger than
 * `MAX_CLIENT_FRAME_BYTES` closes the connection (1009) as soon as its header arrives, instead of
 * being buffered; one client address holds at most `MAX_CONNECTIONS_PER_CLIENT` connections.
 */
import { expect, layer } from "@effect/vitest"
import { LIVE_PATH } from "@quasar/domain"
import { TestService } from "@quasar/server/testing"
import { Effect, Option, Schedule } from "effect"
import WebSocket from "ws"
import { MAX_CLIENT_FRAME_BYTES, MAX_CONNECTIONS_PER_CLIENT } from "../../src/live/LiveFeedServer"
import { DataHubAlone } from "../../src/testing/DataHubAlone"
import { port, ready } from "./support"

interface Opened {
  readonly ws: WebSocket
  readonly messages: Array<string>
  readonly closed: Promise<{ readonly code: number; readonly ms: number }>
}

/** Opens `/live`; fails with the HTTP status when the server refuses the upgrade. */
const open = (p: number, headers: Record<string, string> = {}) =>
  Effect.async<Opened, { readonly status: number }>((resume) => {
    const ws = new WebSocket(`ws://127.0.0.1:${p}${LIVE_PATH}`, { headers })
    const messages: Array<string> = []
    const started = Date.now()
    const closed = new Promise<{ code: number; ms: number }>((done) =>
      ws.on("close", (code) => done({ code, ms: Date.now() - started }))
    )
    ws.on("message", (data) => messages.push(String(data)))
    ws.once("unexpected-response", (_req, res) => {
      res.resume()
      resume(Effect.fail({ status: res.statusCode ?? 0 }))
    })
    ws.once("error", () => undefined)
    ws.once("open", () => resume(Effect.succeed({ ws, messages, closed })))
  })

const closeAll = (sockets: ReadonlyArray<Opened>) =>
  Effect.promise(() =>
    Promise.all(
      sockets.map((s) => {
        s.ws.close()
        return Promise.race([s.closed, new Promise((r) => setTimeout(r, 2_000))])
      })
    )
  )

const until = (test: () => boolean) =>
  Effect.promise(async () => {
    for (let i = 0; i < 200 && !test(); i++) await new Promise((r) => setTimeout(r, 25))
    return test()
  })

layer(TestService.layer(DataHubAlone), { timeout: 120_000, excludeTestServices: true })(
  "/live limits",
  (it) => {
    it.effect(
      "a frame over the limit closes the connection with 1009; one under it gets an error frame",
      () =>
        Effect.gen(function* () {
          yield* ready
          const p = yield* port
          const polite = yield* open(p)
          polite.ws.send("x".repeat(8_000))
          expect(yield* until(() => polite.messages.length > 0)).toBe(true)
          expect(JSON.parse(polite.messages[0] ?? "{}")).toMatchObject({ _tag: "error" })
          polite.ws.send(JSON.stringify({ _tag: "ping", id: 1 }))
          expect(yield* until(() => polite.messages.some((m) => m.includes("pong")))).toBe(true)

          for (const size of [MAX_CLIENT_FRAME_BYTES + 1, 8 * 1024 * 1024]) {
            const greedy = yield* open(p)
            greedy.ws.send(Buffer.alloc(size, 120))
            const closed = yield* Effect.promise(() => greedy.closed).pipe(
              Effect.timeout("10 seconds"),
              Effect.option
            )
            greedy.ws.terminate()
            expect(closed.pipe(Option.map((c) => c.code)), String(size)).toEqual(Option.some(1009))
          }
          // The others carry on.
          polite.ws.send(JSON.stringify({ _tag: "ping", id: 2 }))
          expect(yield* until(() => polite.messages.some((m) => m.includes('"id":2')))).toBe(true)
          yield* closeAll([polite])
        })
    )

    it.effect(
      `one client address holds at most ${MAX_CONNECTIONS_PER_CLIENT} connections; others are not affected`,
      () =>
        Effect.gen(function* () {
          yield* ready
          const p = yield* port
          const sockets: Array<Opened> = []
          for (let i = 0; i < MAX_CONNECTIONS_PER_CLIENT; i++) sockets.push(yield* open(p))
          const refused = yield* Effect.flip(open(p))
          expect(refused.status).toBe(429)
          // Behind a proxy on this host, another client is another address.
          const other = yield* open(p, { "x-forwarded-for": "198.51.100.7" })
          // A closed connection frees its place (once the server has seen the close).
          yield* closeAll(sockets.splice(0, 1))
          const again = yield* Effect.retry(open(p), { schedule: Schedule.spaced("50 millis"), times: 40 })
          yield* closeAll([...sockets, other, again])
          // Plain requests are not upgrades, and take no place.
          for (let i = 0; i < MAX_CONNECTIONS_PER_CLIENT + 5; i++) {
            const res = yield* Effect.promise(() => fetch(`http://127.0.0.1:${p}${LIVE_PATH}`))
            expect(res.status).toBe(426)
          }
          yield* closeAll([yield* open(p)])
        })
    )
  }
)
