/**
 * Reverse proxy that behaves like the production Nginx (ops/nginx/quasar.conf, and
 * nginx.org/en/docs/http/ngx_http_proxy_module.html): a `/prefix/` location whose `proxy_pass`
 * ends in `/` strips the prefix; `Host` is the client's host name; `X-Forwarded-For`/`-Proto`
 * are set; hop-by-hop headers are dropped and the upstream connection is kept alive; an
 * unreachable upstream answers 502, a silent one 504, a too large body 413. WebSocket upgrades
 * are tunnelled (Nginx needs `Upgrade`/`Connection` set explicitly for that).
 */
import {
  type Agent,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  request,
  type ServerResponse
} from "node:http"
import { Socket } from "node:net"
import type { Duplex } from "node:stream"

export interface ProxyRoute {
  /** Ends with `/`, like the Nginx location. */
  readonly prefix: string
  readonly host: string
  readonly port: number
  /** `proxy_pass http://up/;` (strip) versus `proxy_pass http://up;` (keep the path). */
  readonly stripPrefix: boolean
  /** `client_max_body_size` (Nginx's default is 1m). */
  readonly maxBodyBytes: number
  /** `proxy_read_timeout` (Nginx's default is 60 s). */
  readonly readTimeoutMs: number
}

const hopByHop = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade"
])

/** Headers minus hop-by-hop ones, including any the `Connection` header itself names. */
const endToEnd = (headers: IncomingHttpHeaders): OutgoingHttpHeaders => {
  const named = new Set(
    (headers.connection ?? "")
      .split(",")
      .map((s) => s.trim().toLowerCase())
      .filter((s) => s !== "")
  )
  const out: OutgoingHttpHeaders = {}
  for (const [key, value] of Object.entries(headers)) {
    if (value !== undefined && !hopByHop.has(key) && !named.has(key)) out[key] = value
  }
  return out
}

/** `$host`: the host name of the request, without the port. */
const hostName = (req: IncomingMessage): string => {
  const host = req.headers.host ?? ""
  return (host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.split(":")[0]) || "localhost"
}

const upstreamHeaders = (req: IncomingMessage): OutgoingHttpHeaders => {
  const prior = req.headers["x-forwarded-for"]
  const client = req.socket.remoteAddress ?? "unknown"
  return {
    ...endToEnd(req.headers),
    host: hostName(req),
    "x-forwarded-for": prior ? `${prior}, ${client}` : client,
    "x-forwarded-proto": "http"
  }
}

export const upstreamPath = (route: ProxyRoute, url: string): string =>
  route.stripPrefix ? `/${url.slice(route.prefix.length)}` : url

/** Decoded until stable (so double encoding cannot hide a character); null when malformed. */
const decoded = (path: string): string | null => {
  let current = path
  for (let i = 0; i < 4; i++) {
    let next: string
    try {
      next = decodeURIComponent(current)
    } catch {
      return null
    }
    if (next === current) return current
    current = next
  }
  return current
}

/** The path's segments as a lenient router would see them; null when it does not decode. */
const canonicalSegments = (path: string): Array<string> | null => {
  const plain = decoded(path.split(/[?#]/, 1)[0] ?? "")
  if (plain === null) return null
  const segments: Array<string> = []
  for (const segment of plain.replace(/\\/g, "/").split("/")) {
    const clean = (segment.split(";", 1)[0] ?? "").replace(/[.\s]+$/, "").toLowerCase()
    if (segment === "..") segments.pop()
    else if (clean !== "" && segment !== ".") segments.push(clean)
  }
  return segments
}

/**
 * Whether `url` might reach a service's `/internal/` routes, which only the services may call:
 * like Nginx, and more, the path is judged after percent-decoding (repeatedly), with `\` as `/`,
 * empty and `.` segments dropped, `..` resolved, `;` parameters and trailing dots or spaces cut,
 * in any case — every spelling the services' router (case-insensitive, decoding) might accept —
 * both as requested (`/api/<service>/internal…`) and as it would be forwarded. An API path that
 * does not decode is refused too.
 */
export const reachesInternal = (routes: ReadonlyArray<ProxyRoute>, url: string): boolean => {
  const route = routes.find((r) => url.startsWith(r.prefix))
  const requested = canonicalSegments(url)
  if (requested === null) return route !== undefined || url.toLowerCase().startsWith("/api")
  if (requested[0] === "api" && requested[2]?.startsWith("internal")) return true
  if (route === undefined) return false
  const forwarded = canonicalSegments(upstreamPath(route, url))
  return forwarded === null || (forwarded[0]?.startsWith("internal") ?? false)
}

const errorPage = (status: number, title: string) =>
  `<html><head><title>${status} ${title}</title></head><body><center><h1>${status} ${title}</h1></center></body></html>\n`

const fail = (res: ServerResponse, status: number, title: string) => {
  if (res.headersSent) {
    res.destroy()
    return
  }
  res.writeHead(status, { "content-type": "text/html", connection: "close" })
  res.end(errorPage(status, title))
}

/** Proxies one HTTP request; `decorate` adds the headers every response carries. */
export const proxyHttp = (
  route: ProxyRoute,
  agent: Agent,
  req: IncomingMessage,
  res: ServerResponse,
  decorate: (res: ServerResponse) => void
): void => {
  decorate(res)
  // Several failures can follow each other (timeout, then the destroyed request's error): the
  // first one answers.
  let failed = false
  const reject = (status: number, title: string) => {
    if (failed) return
    failed = true
    fail(res, status, title)
  }
  const declared = Number(req.headers["content-length"] ?? "0")
  if (declared > route.maxBodyBytes) {
    // Do not read the body: answer and close, as Nginx does.
    reject(413, "Request Entity Too Large")
    req.socket.destroySoon()
    return
  }
  const upstream = request({
    host: route.host,
    port: route.port,
    method: req.method,
    path: upstreamPath(route, req.url ?? "/"),
    headers: upstreamHeaders(req),
    agent
  })
  upstream.setTimeout(route.readTimeoutMs, () => {
    reject(504, "Gateway Time-out")
    upstream.destroy()
  })
  upstream.on("error", () => reject(502, "Bad Gateway"))
  upstream.on("response", (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEnd(answer.headers))
    answer.pipe(res)
    answer.on("error", () => res.destroy())
  })
  // A client that goes away mid-request must not leave the upstream request hanging.
  res.on("close", () => {
    if (!res.writableFinished) upstream.destroy()
  })
  let received = 0
  req.on("data", (chunk: Buffer) => {
    received += chunk.length
    if (received > route.maxBodyBytes) {
      reject(413, "Request Entity Too Large")
      upstream.destroy()
      req.socket.destroySoon()
    }
  })
  req.pipe(upstream)
}

const rawHead = (status: number, message: string, rawHeaders: ReadonlyArray<string>, skip: Set<string>) => {
  const lines = [`HTTP/1.1 ${status} ${message}`]
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const key = rawHeaders[i] ?? ""
    if (!skip.has(key.toLowerCase())) lines.push(`${key}: ${rawHeaders[i + 1] ?? ""}`)
  }
  return `${lines.join("\r\n")}\r\n\r\n`
}

/** Tunnels a WebSocket (or any `Upgrade`) handshake and then the raw bytes both ways. */
export const proxyUpgrade = (route: ProxyRoute, req: IncomingMessage, socket: Duplex, head: Buffer): void => {
  const upstream = request({
    host: route.host,
    port: route.port,
    method: req.method,
    path: upstreamPath(route, req.url ?? "/"),
    headers: { ...upstreamHeaders(req), upgrade: req.headers.upgrade ?? "", connection: "upgrade" },
    agent: false
  })
  socket.on("error", () => upstream.destroy())
  upstream.on("error", () => {
    if (socket.writable) socket.end(`HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\n\r\n`)
  })
  upstream.on("upgrade", (answer, tunnel, tunnelHead) => {
    socket.write(rawHead(101, answer.statusMessage ?? "Switching Protocols", answer.rawHeaders, new Set()))
    if (tunnelHead.length > 0) socket.write(tunnelHead)
    if (head.length > 0) tunnel.write(head)
    // `proxy_read_timeout` applies to the tunnel too: an idle one is closed.
    for (const side of [socket, tunnel]) {
      if (side instanceof Socket) side.setTimeout(route.readTimeoutMs, () => side.destroy())
    }
    tunnel.on("error", () => socket.destroy())
    socket.on("error", () => tunnel.destroy())
    tunnel.on("close", () => socket.destroy())
    socket.on("close", () => tunnel.destroy())
    tunnel.pipe(socket)
    socket.pipe(tunnel)
  })
  // The upstream declined the upgrade: relay its answer as a plain response and close.
  upstream.on("response", (answer) => {
    const skip = new Set(["connection", "transfer-encoding", "content-length", "keep-alive"])
    socket.write(
      rawHead(answer.statusCode ?? 502, answer.statusMessage ?? "", answer.rawHeaders, skip).replace(
        /\r\n\r\n$/,
        "\r\nconnection: close\r\n\r\n"
      )
    )
    answer.pipe(socket)
  })
  upstream.end()
}
