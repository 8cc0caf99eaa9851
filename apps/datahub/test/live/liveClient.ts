/** A `/live` WebSocket client for tests: every message it receives, decoded, and a way to wait for one. */
import { type LiveServerMessage, LiveServerMessage as ServerMessage } from "@quasar/domain"
import { Effect, Schema } from "effect"
import WebSocket from "ws"

const decode = Schema.decodeUnknownSync(Schema.parseJson(ServerMessage))

export interface Client {
  readonly ws: WebSocket
  readonly received: Array<LiveServerMessage>
  readonly send: (message: unknown) => void
  readonly closed: Promise<{ readonly code: number; readonly reason: string }>
  readonly waitFor: (
    what: string,
    test: (received: ReadonlyArray<LiveServerMessage>) => boolean
  ) => Effect.Effect<void, Error>
}

export const connect = (url: string) =>
  Effect.acquireRelease(
    Effect.promise(
      () =>
        new Promise<Client>((resolve, reject) => {
          const ws = new WebSocket(url)
          const received: Array<LiveServerMessage> = []
          const closed = new Promise<{ code: number; reason: string }>((done) =>
            ws.on("close", (code, reason) => done({ code, reason: reason.toString() }))
          )
          ws.on("message", (data) => received.push(decode(String(data))))
          ws.once("error", reject)
          ws.once("open", () =>
            resolve({
              ws,
              received,
              closed,
              send: (m) => ws.send(typeof m === "string" ? m : JSON.stringify(m)),
              waitFor: (what, test) =>
                Effect.promise(async () => {
                  for (let i = 0; i < 300 && !test(received); i++) await new Promise((r) => setTimeout(r, 50))
                  return test(received)
                }).pipe(
                  Effect.filterOrFail(
                    (ok) => ok,
                    () => new Error(`no ${what} in ${JSON.stringify(received.slice(-5)).slice(0, 600)}`)
                  ),
                  Effect.asVoid
                )
            })
          )
        })
    ),
    // A clean close before the app stops, so the server's handler ends normally.
    (client) =>
      Effect.promise(() => {
        client.ws.close()
        return Promise.race([client.closed, new Promise((r) => setTimeout(r, 1_000))])
      }).pipe(Effect.zipRight(Effect.sync(() => client.ws.terminate())))
  )
