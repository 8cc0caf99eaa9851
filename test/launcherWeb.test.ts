/**
 * The launcher's port 3000 and its output forwarding, in process: the proxy in front of a fake
 * service (HTTP and WebSocket), the built UI from a temporary `dist`, and the log line format.
 * test/start.test.ts checks the same server end to end with the real services.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createServer, request, type Server } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { WebSocket, WebSocketServer } from "ws"
import { corsOriginsFor } from "../scripts/launcher/config"
import { formatLine } from "../scripts/launcher/output"
import { createWebServer } from "../scripts/launcher/web"
import { absoluteFormRequest, internalSpellings, rawRequest } from "./e2e/support/internalRoutes"
import { freePort, get } from "./support/processes"

describe("port 3000 behaves like the production Nginx (scripts/launcher/web.ts)", () => {
  /** Every path the fake service was asked for. */
  const seen: Array<string> = []
  const upstream = createServer((req, res) => {
    seen.push(req.url ?? "")
    res.writeHead(200, { "content-type": "application/json" })
    res.end(JSON.stringify({ url: req.url, headers: req.headers }))
  })
  const sockets = new WebSocketServer({ server: upstream })
  sockets.on("connection", (ws, req) => {
    seen.push(req.url ?? "")
    ws.send(`hello ${req.url}`)
    ws.on("message", (m) => ws.send(`echo ${String(m)}`))
  })
  const distDir = mkdtempSync(join(tmpdir(), "quasar-dist-"))
  let web: Server | undefined
  let base = ""

  const listen = (server: Server) =>
    new Promise<number>((resolve) =>
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        resolve(typeof address === "object" && address !== null ? address.port : 0)
      })
    )

  beforeAll(async () => {
    const upstreamPort = await listen(upstream)
    const route = (prefix: string, port: number, stripPrefix: boolean) => ({
      prefix,
      host: "127.0.0.1",
      port,
      stripPrefix,
      maxBodyBytes: 1024,
      readTimeoutMs: 5_000
    })
    mkdirSync(join(distDir, "assets"))
    writeFileSync(join(distDir, "index.html"), "<h1>spa</h1>")
    writeFileSync(join(distDir, "assets", "app.1234.js"), "console.log(1)")
    web = createWebServer({
      routes: [
        route("/api/registry/", await freePort(), true),
        route("/api/datahub/", upstreamPort, true),
        route("/ws/", upstreamPort, false)
      ],
      distDir,
      placeholder: () => "placeholder"
    })
    base = `http://127.0.0.1:${await listen(web)}`
  })
  afterAll(async () => {
    sockets.close()
    web?.closeAllConnections()
    await Promise.all([web, upstream].map((s) => new Promise((r) => s?.close(r))))
    rmSync(distDir, { recursive: true, force: true })
  })

  it("strips the prefix and sets Host / X-Forwarded-* like proxy_pass http://up/", async () => {
    const answer = await get(`${base}/api/datahub/bars?symbol=BTC%2FUSD&limit=2`)
    expect(answer.status).toBe(200)
    const seen = JSON.parse(answer.body) as { url: string; headers: Record<string, string> }
    expect(seen.url).toBe("/bars?symbol=BTC%2FUSD&limit=2")
    expect(seen.headers).toMatchObject({
      host: "127.0.0.1",
      "x-forwarded-for": "127.0.0.1",
      "x-forwarded-proto": "http"
    })
    expect(answer.headers["content-security-policy"]).toContain("default-src 'self'")
    expect(answer.headers["x-frame-options"]).toBe("DENY")
  })

  it("redirects the bare prefix, answers 502 for a service that is down and 413 above the body limit", async () => {
    const bare = await get(`${base}/api/datahub?x=1`)
    expect([bare.status, bare.headers.location]).toEqual([301, "/api/datahub/?x=1"])
    expect((await get(`${base}/api/registry/health`)).status).toBe(502)
    const tooLarge = await new Promise<number>((resolve, reject) => {
      const req = request(`${base}/api/datahub/upload`, { method: "POST", agent: false }, (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      })
      req.on("error", reject)
      req.end(Buffer.alloc(4096))
    })
    expect(tooLarge).toBe(413)
  })

  it("tunnels WebSockets: prefix stripped under /api/*, path kept under /ws/", async () => {
    const talk = (path: string) =>
      new Promise<Array<string>>((resolve, reject) => {
        const ws = new WebSocket(`${base.replace("http", "ws")}${path}`)
        const got: Array<string> = []
        ws.on("open", () => ws.send("ping"))
        ws.on("message", (m) => {
          got.push(String(m))
          if (got.length === 2) {
            ws.close()
            resolve(got)
          }
        })
        ws.on("error", reject)
      })
    expect(await talk("/api/datahub/live?tf=1m")).toEqual(["hello /live?tf=1m", "echo ping"])
    expect(await talk("/ws/bars")).toEqual(["hello /ws/bars", "echo ping"])
  })

  it("never forwards a service's /internal/ routes, however the path is spelled (404)", async () => {
    const port = Number(new URL(base).port)
    seen.length = 0
    const spellings = [
      ...internalSpellings("/api/datahub", "sandbox/validate"),
      ...internalSpellings("/api/datahub", "sandbox/kraken/assets"),
      ...internalSpellings("/api/registry", "anything"),
      "/ws/../internal/sandbox/validate",
      "/ws/%2e%2e/INTERNAL/sandbox/validate",
      "/api/datahub/%zz/internal/x"
    ]
    for (const path of spellings) {
      const answer = await rawRequest(port, path, {
        body: "{}",
        headers: { "content-type": "application/json" }
      })
      expect(answer.status, path).toBe(404)
      expect(answer.text, path).toContain("NotFound")
    }
    // WebSocket upgrades too.
    const upgrade = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${base.replace("http", "ws")}/api/datahub/%69nternal/live`)
      ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0))
      ws.on("error", () => resolve(-1))
      ws.on("open", () => resolve(101))
    })
    expect(upgrade).not.toBe(101)
    // A request target in absolute form is not an API path here: it is not forwarded either.
    await absoluteFormRequest(port, "http://localhost/api/datahub/internal/sandbox/validate")
    expect(seen).toEqual([])
    // Other paths still go through, an "internal" further down included.
    expect((await get(`${base}/api/datahub/bars/internal`)).status).toBe(200)
    expect(seen).toEqual(["/bars/internal"])
  })

  it("serves the built UI like the Nginx locations (SPA fallback, asset caching, no escape)", async () => {
    const root = await get(`${base}/`)
    expect([root.status, root.body, root.headers["cache-control"]]).toEqual([200, "<h1>spa</h1>", "no-cache"])
    const asset = await get(`${base}/assets/app.1234.js`)
    expect(asset.headers["cache-control"]).toBe("public, max-age=31536000, immutable")
    expect(asset.headers["content-type"]).toContain("javascript")
    expect((await get(`${base}/chart/BTC-USD`)).body).toBe("<h1>spa</h1>")
    expect((await get(`${base}/assets/missing.js`)).status).toBe(404)
    const outside = await get(`${base}/..%2f..%2f..%2f..%2fetc%2fpasswd`)
    expect([outside.status, outside.body]).toEqual([400, "Bad Request\n"])
  })
})

// biome-ignore lint/suspicious/noControlCharactersInRegex: the escape character is the point
const stripColours = (s: string) => s.replace(/\u001b\[\d+m/g, "")

describe("service output (scripts/launcher/output.ts)", () => {
  const line = JSON.stringify({
    time: "2026-01-01T00:00:00.000Z",
    level: "INFO",
    service: "registry",
    message: "http request",
    path: "/health",
    status: 200,
    traceId: "abc"
  })

  it("keeps JSON log lines intact when the output is not a terminal", () => {
    expect(formatLine("registry", line, false)).toBe(line)
    expect(formatLine("datahub", "Error: boom", false)).toBe("[datahub] Error: boom")
  })

  it("prints a compact `[registry] INFO message key=value` line on a terminal", () => {
    const plain = stripColours(formatLine("registry", line, true))
    expect(plain).toBe("[registry] INFO  http request path=/health status=200")
    const several = JSON.stringify({ level: "WARN", message: ["retrying", { error: "down" }], service: "x" })
    expect(stripColours(formatLine("datahub", several, true))).toBe("[datahub] WARN  retrying error=down")
  })
})

describe("the services' CORS origins under npm start (scripts/launcher/config.ts)", () => {
  it("are the configured ones, plus the Vite dev server's under npm run dev", () => {
    expect(corsOriginsFor({ corsOrigins: "", watch: false })).toBe("")
    expect(corsOriginsFor({ corsOrigins: " https://ui.example ,", watch: false })).toBe("https://ui.example")
    expect(corsOriginsFor({ corsOrigins: "https://ui.example,http://localhost:3000", watch: true })).toBe(
      "https://ui.example,http://localhost:3000,http://127.0.0.1:3000"
    )
  })
})
