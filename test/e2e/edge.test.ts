/**
 * The services' edge as a browser and an attacker on the network meet it: Registry, DataHub and
 * Trader as processes, real Nginx with the production configuration (ops/nginx/quasar.conf and its CSP) and
 * the `npm start` proxy in front. Through either, the services' `/internal/` routes are not
 * routed (404), however the path is spelled, even with the real service credential — which, sent
 * to DataHub directly, does reach them. Swagger UI renders in Chromium under both prefixes and
 * the production CSP, with no page error.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import type { Server } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Browser } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createWebServer, serviceRoutes } from "../../scripts/launcher/web"
import { freePort } from "../support/processes"
import { collectPageErrors, launchBrowser } from "./support/browser"
import { absoluteFormRequest, internalSpellings, rawRequest } from "./support/internalRoutes"
import { type RunningNginx, startNginx } from "./support/nginx"
import { missingPrerequisites, nginxBinary } from "./support/prerequisites"
import { type Services, startServices } from "./support/services"

const missing = missingPrerequisites()
if (missing) process.stdout.write(`[quasar e2e] skipped: ${missing}\n`)

const validModule = `import { defineProvider } from "@quasar/providers/sdk"
export default defineProvider({ name: "edge", version: "1.0.0", timeframes: ["1m"], listAssets: async () => [], async *history() {} })
`

describe.runIf(missing === null)("the services' edge through Nginx and the npm start proxy", () => {
  const dir = mkdtempSync(join(tmpdir(), "quasar-edge-"))
  let services: Services
  let nginx: RunningNginx
  let proxy: Server
  let proxyPort = 0
  let browser: Browser

  beforeAll(async () => {
    // Nginx needs a UI root; the docs pages are the services' own.
    const web = join(dir, "web")
    mkdirSync(join(web, "assets"), { recursive: true })
    writeFileSync(join(web, "index.html"), '<!DOCTYPE html><div id="app"></div>')
    services = await startServices(join(dir, "data"), { trader: true })
    nginx = await startNginx({
      binary: nginxBinary() ?? "nginx",
      dir: join(dir, "nginx"),
      port: await freePort(),
      webRoot: web,
      registryPort: services.registryPort,
      datahubPort: services.datahubPort,
      traderPort: services.traderPort
    })
    proxyPort = await freePort()
    proxy = createWebServer({
      routes: serviceRoutes("127.0.0.1", services.registryPort, services.datahubPort, services.traderPort),
      distDir: web,
      placeholder: () => "placeholder"
    })
    await new Promise<void>((resolve) => proxy.listen(proxyPort, "127.0.0.1", resolve))
    browser = await launchBrowser()
  }, 180_000)

  afterAll(async () => {
    await browser?.close()
    proxy?.closeAllConnections()
    await new Promise((resolve) => (proxy ? proxy.close(resolve) : resolve(undefined)))
    await nginx?.stop()
    await services?.stop()
    rmSync(dir, { recursive: true, force: true })
  }, 60_000)

  const withCredential = () => ({
    headers: { authorization: `Bearer ${services.serviceToken}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "edge", kind: "provider", language: "javascript", source: validModule })
  })

  const spellings = () => [
    ...internalSpellings("/api/datahub", "sandbox/validate"),
    ...internalSpellings("/api/datahub", "sandbox/edge/assets"),
    ...internalSpellings("/api/registry", "anything"),
    ...internalSpellings("/api/trader", "anything")
  ]

  it("sent to DataHub directly, the service credential reaches the internal routes, in several spellings", async () => {
    for (const path of [
      "/internal/sandbox/validate",
      "/INTERNAL/sandbox/validate",
      "/%69nternal//sandbox/validate"
    ]) {
      const answer = await rawRequest(services.datahubPort, path, withCredential())
      expect(answer.status, path).toBe(200)
      expect(JSON.parse(answer.text)).toMatchObject({ report: { issues: expect.any(Array) } })
    }
    const anonymous = await rawRequest(services.datahubPort, "/internal/sandbox/validate", { body: "{}" })
    expect(anonymous.status).toBe(401)
  }, 60_000)

  for (const [via, port] of [
    ["Nginx", () => Number(new URL(nginx.url).port)],
    ["the npm start proxy", () => proxyPort]
  ] as const)
    it(`${via} answers 404 for every spelling of an internal route, even with the service credential`, async () => {
      const reached: Array<string> = []
      for (const path of spellings()) {
        const answer = await rawRequest(port(), path, withCredential())
        if (answer.status !== 404 || !answer.text.includes("NotFound"))
          reached.push(`${path} → ${answer.status}`)
      }
      expect(reached).toEqual([])
      // Absolute-form request targets: never forwarded to an internal route either.
      const absolute = await absoluteFormRequest(
        port(),
        "http://localhost/api/datahub/internal/sandbox/validate"
      )
      expect(absolute.status).not.toBe(401)
      expect(absolute.text).not.toContain("Unauthorized")
    }, 60_000)

  for (const [via, base] of [
    ["Nginx", () => nginx.url],
    ["the npm start proxy", () => `http://127.0.0.1:${proxyPort}`]
  ] as const)
    it(`${via} routes /api/trader/ to Trader, stripping the prefix`, async () => {
      const health = await fetch(`${base()}/api/trader/health`)
      expect(health.status).toBe(200)
      expect(((await health.json()) as { service?: string }).service).toBe("trader")
      expect(health.headers.get("content-security-policy")).toContain("default-src 'self'")
      const list = await fetch(`${base()}/api/trader/backtests`)
      expect(list.status).toBe(200)
      expect(Array.isArray(await list.json())).toBe(true)
    }, 60_000)

  for (const [via, base] of [
    ["Nginx", () => nginx.url],
    ["the npm start proxy", () => `http://127.0.0.1:${proxyPort}`]
  ] as const)
    for (const [service, title] of [
      ["registry", "Quasar Registry"],
      ["datahub", "Quasar DataHub"],
      ["trader", "Quasar Trader"]
    ] as const)
      it(`Swagger UI of the ${service} renders through ${via} under the production CSP`, async () => {
        const page = await browser.newPage()
        const errors = collectPageErrors(page)
        const violations: Array<string> = []
        page.on("console", (m) => {
          if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text())
        })
        const specs: Array<string> = []
        page.on("response", (r) => {
          if (r.url().endsWith("/openapi.json")) specs.push(`${r.status()} ${new URL(r.url()).pathname}`)
        })
        try {
          const response = await page.goto(`${base()}/api/${service}/docs`)
          expect(response?.status()).toBe(200)
          expect(response?.headers()["content-security-policy"]).toContain("default-src 'self'")
          await page
            .locator(".swagger-ui .info .title")
            .filter({ hasText: title })
            .waitFor({ timeout: 30_000 })
          expect(await page.locator(".swagger-ui .opblock").count()).toBeGreaterThan(3)
          expect(specs).toEqual([`200 /api/${service}/openapi.json`])
          // "Try it out" calls go under the same prefix.
          expect(await page.locator(".swagger-ui .servers select").inputValue()).toBe(`/api/${service}`)
          expect(violations).toEqual([])
          expect(errors).toEqual([])
        } finally {
          await page.close()
        }
      }, 60_000)
})
