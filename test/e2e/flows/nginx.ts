/** The production nginx config, checked from outside: SPA, caching, gzip, prefixes, headers on errors. */
import { readdirSync } from "node:fs"
import { expect } from "vitest"
import type { Stack } from "../support/stack"

const SECURITY = [
  "x-content-type-options",
  "x-frame-options",
  "referrer-policy",
  "permissions-policy",
  "content-security-policy"
]

const expectSecurityHeaders = (response: Response, what: string) => {
  for (const name of SECURITY) expect(response.headers.get(name), `${name} on ${what}`).toBeTruthy()
}

export const nginxServesTheAppAndApis = async ({ url, webRoot }: Stack) => {
  // History-mode routes get index.html, revalidated every time.
  const route = await fetch(`${url}/providers/kraken?x=1`)
  expect(route.status).toBe(200)
  expect(await route.text()).toContain('<div id="app">')
  expect(route.headers.get("cache-control")).toBe("no-cache")
  expectSecurityHeaders(route, "an app route")
  // The Assets page's route is not the build's assets directory.
  const assetsPage = await fetch(`${url}/assets?provider=kraken`)
  expect(assetsPage.status).toBe(200)
  expect(await assetsPage.text()).toContain('<div id="app">')

  // Hashed assets: a year, immutable, gzipped; a missing one is a 404 that is not cached.
  const script = readdirSync(`${webRoot}/assets`).find((f) => /^index-.*\.js$/.test(f))
  const asset = await fetch(`${url}/assets/${script}`, { headers: { "accept-encoding": "gzip" } })
  expect(asset.status).toBe(200)
  expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable")
  expect(asset.headers.get("content-encoding")).toBe("gzip")
  expectSecurityHeaders(asset, "an asset")
  const missing = await fetch(`${url}/assets/missing-1234.js`)
  expect(missing.status).toBe(404)
  expect(missing.headers.get("cache-control")).toBe("no-store")
  expectSecurityHeaders(missing, "a 404")

  // Both APIs with their prefix stripped; their errors carry the headers too.
  for (const service of ["registry", "datahub"]) {
    const health = await fetch(`${url}/api/${service}/health`)
    expect(health.status).toBe(200)
    expect(await health.json()).toMatchObject({ service, status: "ok" })
    expectSecurityHeaders(health, `${service} health`)
  }
  const refused = await fetch(`${url}/api/registry/mappings`, { method: "PUT", body: "{}" })
  expect(refused.status).toBe(401)
  expectSecurityHeaders(refused, "a refused write")
  const unknownApi = await fetch(`${url}/api/nothing/here`)
  expect(unknownApi.status).toBe(404)
  expectSecurityHeaders(unknownApi, "an unknown API")

  // Code uploads up to 1 MiB (more once JSON-escaped) pass nginx and reach the Registry.
  const big = JSON.stringify({ kind: "provider", language: "javascript", source: "x".repeat(1_048_576) })
  const upload = await fetch(`${url}/api/registry/code/too-big`, {
    method: "POST",
    body: big,
    headers: { "content-type": "application/json" }
  })
  expect(upload.status).toBe(401)
}
