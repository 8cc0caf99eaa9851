/**
 * The launcher's port 3000: what Nginx is in production. `/api/registry/*`, `/api/datahub/*` and
 * `/api/trader/*` go to the services (prefix stripped), `/ws/*` to DataHub (path kept), everything else is the
 * UI's built files or, before the UI exists, a placeholder page. The services' `/internal/`
 * routes are never proxied (404), however the path is spelled. The security headers go on every
 * answer, as the server-level `include` does in Nginx, so that CSP problems show up in dev too.
 */
import { existsSync } from "node:fs"
import { Agent, createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import { join } from "node:path"
import { Effect } from "effect"
import { LauncherError } from "./LauncherError"
import { type ProxyRoute, proxyHttp, proxyUpgrade, reachesInternal } from "./proxy"
import { serveStatic } from "./staticFiles"

export const securityHeaders: Readonly<Record<string, string>> = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "strict-origin-when-cross-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=()",
  "content-security-policy":
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
}

const decorate = (res: ServerResponse) => {
  for (const [name, value] of Object.entries(securityHeaders)) res.setHeader(name, value)
}

const MiB = 1024 * 1024

/**
 * The same locations as ops' Nginx (`client_max_body_size`, `proxy_read_timeout` included): the
 * `/` after the prefix makes proxy_pass strip it.
 */
export const serviceRoutes = (
  host: string,
  registryPort: number,
  datahubPort: number,
  traderPort: number
): ReadonlyArray<ProxyRoute> => [
  {
    prefix: "/api/registry/",
    host,
    port: registryPort,
    stripPrefix: true,
    maxBodyBytes: 16 * MiB,
    readTimeoutMs: 120_000
  },
  {
    prefix: "/api/datahub/",
    host,
    port: datahubPort,
    stripPrefix: true,
    maxBodyBytes: 2 * MiB,
    readTimeoutMs: 300_000
  },
  {
    prefix: "/api/trader/",
    host,
    port: traderPort,
    stripPrefix: true,
    maxBodyBytes: 2 * MiB,
    readTimeoutMs: 120_000
  },
  {
    prefix: "/ws/",
    host,
    port: datahubPort,
    stripPrefix: false,
    maxBodyBytes: 1 * MiB,
    readTimeoutMs: 3_600_000
  }
]

export interface WebOptions {
  readonly routes: ReadonlyArray<ProxyRoute>
  /** Served when it holds an `index.html`; checked per request so a fresh build shows at once. */
  readonly distDir: string
  /** The page for `/` before the UI is built, given the host name the browser used. */
  readonly placeholder: (hostName: string) => string
}

const routeFor = (routes: ReadonlyArray<ProxyRoute>, url: string) =>
  routes.find((r) => url.startsWith(r.prefix))

/** Nginx answers `/api/registry` (no slash) of a `location /api/registry/` with a 301 to the slash. */
const redirectFor = (routes: ReadonlyArray<ProxyRoute>, url: string): string | null => {
  const [path = "", query] = url.split(/\?(.*)/s, 2)
  const route = routes.find((r) => path === r.prefix.slice(0, -1))
  return route ? `${route.prefix}${query === undefined ? "" : `?${query}`}` : null
}

const NOT_ROUTED = JSON.stringify({
  _tag: "NotFound",
  message: "internal service routes are not served here"
})

const requestHostName = (req: IncomingMessage): string => {
  const host = req.headers.host ?? "localhost"
  return host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : (host.split(":")[0] ?? "localhost")
}

export const createWebServer = (options: WebOptions): Server => {
  // Like `keepalive 16` in the upstream blocks: reuse connections to the services.
  const agent = new Agent({ keepAlive: true, maxFreeSockets: 16 })
  const server = createServer((req, res) => {
    const url = req.url ?? "/"
    if (reachesInternal(options.routes, url)) {
      decorate(res)
      res.writeHead(404, { "content-type": "application/json" })
      res.end(NOT_ROUTED)
      return
    }
    const route = routeFor(options.routes, url)
    if (route) return proxyHttp(route, agent, req, res, decorate)
    decorate(res)
    const redirect = redirectFor(options.routes, url)
    if (redirect !== null) {
      res.writeHead(301, { location: redirect, "content-type": "text/plain; charset=utf-8" })
      res.end(`${redirect}\n`)
      return
    }
    if (existsSync(join(options.distDir, "index.html"))) return serveStatic(options.distDir, req, res)
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { "content-type": "text/plain; charset=utf-8" })
      res.end("Method Not Allowed\n")
      return
    }
    const page = options.placeholder(requestHostName(req))
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-cache" })
    res.end(req.method === "HEAD" ? undefined : page)
  })
  server.on("upgrade", (req: IncomingMessage, socket, head: Buffer) => {
    const route = routeFor(options.routes, req.url ?? "/")
    if (route && !reachesInternal(options.routes, req.url ?? "/"))
      return proxyUpgrade(route, req, socket, head)
    socket.end("HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n")
  })
  server.on("close", () => agent.destroy())
  return server
}

/** Listens on `host:port` for as long as the scope lives; closing also drops open connections. */
export const serveWeb = (options: WebOptions, host: string, port: number) =>
  Effect.acquireRelease(
    Effect.async<Server, LauncherError>((resume) => {
      const server = createWebServer(options)
      server.once("error", (e: NodeJS.ErrnoException) =>
        resume(
          Effect.fail(
            new LauncherError({
              message:
                e.code === "EADDRINUSE"
                  ? `port ${port} is already in use (set WEB_PORT to use another one)`
                  : `cannot listen on ${host}:${port}: ${e.message}`
            })
          )
        )
      )
      server.listen(port, host, () => resume(Effect.succeed(server)))
    }),
    (server) =>
      Effect.async<void>((resume) => {
        server.close(() => resume(Effect.void))
        // Keep-alive browser connections and WebSocket tunnels would hold `close` open forever.
        server.closeAllConnections()
      })
  )
