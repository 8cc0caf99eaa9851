/**
 * The ways a client might spell a path to a service's `/internal/` routes through a proxy
 * (Nginx, the `npm start` proxy): case, percent-encoding (once and twice), repeated and encoded
 * slashes, dot segments, trailing dots and spaces, `;` parameters, backslashes, a trailing slash
 * or a query. The services' router ignores case, decodes and merges slashes, so several of these
 * reach an internal route when sent to a service directly.
 */
import { request } from "node:http"
import { connect } from "node:net"

/** `prefix` is `/api/datahub`; `rest` a path under `/internal/`, without it (`sandbox/validate`). */
export const internalSpellings = (prefix: string, rest: string): ReadonlyArray<string> => {
  const encoded = rest.replace(/\//g, "%2F")
  return [
    `${prefix}/internal/${rest}`,
    `${prefix}/INTERNAL/${rest}`,
    `${prefix}/Internal/${rest.toUpperCase()}`,
    `${prefix}/%69nternal/${rest}`,
    `${prefix}/%49NTERNAL/${rest}`,
    `${prefix}/%69%6e%74%65%72%6e%61%6c/${rest}`,
    `${prefix}/%2569nternal/${rest}`,
    `${prefix}//internal/${rest}`,
    `${prefix}///internal//${rest}`,
    `${prefix}/./internal/${rest}`,
    `${prefix}/%2e/internal/${rest}`,
    `${prefix}/x/../internal/${rest}`,
    `${prefix}/x/%2e%2e/internal/${rest}`,
    `${prefix}%2Finternal/${rest}`,
    `${prefix}/internal%2F${encoded}`,
    `${prefix}/internal./${rest}`,
    `${prefix}/internal../${rest}`,
    `${prefix}/internal%20/${rest}`,
    `${prefix}/internal;x=1/${rest}`,
    `${prefix}/\\internal/${rest}`,
    `${prefix}/%5Cinternal/${rest}`,
    `${prefix}/internal/${rest}/`,
    `${prefix}/internal/${rest}?x=1`
  ]
}

export interface Answer {
  readonly status: number
  readonly text: string
}

/** One request with `path` sent exactly as written (no URL parsing on the way). */
export const rawRequest = (
  port: number,
  path: string,
  options: {
    readonly method?: string
    readonly headers?: Record<string, string>
    readonly body?: string
  } = {}
) =>
  new Promise<Answer>((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: options.method ?? "POST",
        headers: options.headers,
        agent: false
      },
      (res) => {
        let text = ""
        res.setEncoding("utf8")
        res.on("data", (chunk: string) => {
          text += chunk
        })
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text }))
      }
    )
    req.on("error", reject)
    req.end(options.body)
  })

/** A request whose target is in absolute form (`POST http://host/path HTTP/1.1`), over a bare socket. */
export const absoluteFormRequest = (port: number, target: string) =>
  new Promise<Answer>((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () =>
      socket.write(
        `POST ${target} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`
      )
    )
    let text = ""
    socket.setEncoding("utf8")
    socket.on("data", (chunk: string) => {
      text += chunk
    })
    socket.on("error", reject)
    socket.on("end", () =>
      resolve({
        status: Number(/^HTTP\/1\.\d (\d{3})/.exec(text)?.[1] ?? 0),
        text: text.split("\r\n\r\n")[1] ?? ""
      })
    )
  })
