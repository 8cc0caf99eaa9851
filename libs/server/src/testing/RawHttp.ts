/**
 * HTTP for edge tests, below any client: the port of the server under test, and one request
 * exactly as given on its own connection (`raw`), so a test controls every header and byte.
 */
import { request } from "node:http"
import { HttpServer } from "@effect/platform"
import { Effect } from "effect"

/** The port of the server under test. */
export const port = Effect.map(HttpServer.HttpServer, (server) =>
  server.address._tag === "TcpAddress" ? server.address.port : 0
)

export interface Raw {
  readonly method: string
  readonly path: string
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: string | Uint8Array
}

export interface Answer {
  readonly status: number
  readonly headers: Readonly<Record<string, string | Array<string> | undefined>>
  readonly text: string
  /** From sending the request to its answer's end. */
  readonly ms: number
}

/**
 * One request exactly as given (no header added but `host`), on its own connection. With
 * `declaredLength`, `Content-Length` says that much while only `body` is sent: the answer must
 * come without the server waiting for the rest.
 */
export const raw = (port: number, r: Raw, declaredLength?: number) =>
  Effect.async<Answer, Error>((resume) => {
    const started = Date.now()
    const body = r.body === undefined ? undefined : typeof r.body === "string" ? Buffer.from(r.body) : r.body
    const headers: Record<string, string> = { ...r.headers }
    if (body !== undefined || declaredLength !== undefined)
      headers["content-length"] = String(declaredLength ?? body?.length ?? 0)
    const req = request(
      { host: "127.0.0.1", port, method: r.method, path: r.path, headers, agent: false, setHost: true },
      (res) => {
        let text = ""
        res.setEncoding("utf8")
        res.on("data", (chunk: string) => {
          text += chunk
        })
        res.on("end", () => {
          if (declaredLength !== undefined) req.destroy()
          resume(
            Effect.succeed({
              status: res.statusCode ?? 0,
              headers: res.headers,
              text,
              ms: Date.now() - started
            })
          )
        })
      }
    )
    req.on("error", (e) => resume(Effect.fail(e)))
    if (body !== undefined) req.write(body)
    // A declared length larger than what was sent: keep the request open, as a slow client would.
    if (declaredLength === undefined) req.end()
    return Effect.sync(() => req.destroy())
  })

/** A POST announcing an 80 MB body and sending one byte of it. */
export const announcingHugeBody = (port: number, path: string, headers: Readonly<Record<string, string>>) =>
  raw(
    port,
    { method: "POST", path, headers: { "content-type": "application/json", ...headers }, body: "{" },
    80 * 1024 * 1024
  )
