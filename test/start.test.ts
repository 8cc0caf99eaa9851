/**
 * `npm start` as a user runs it: the launcher on random free ports with a temporary data
 * directory and the embedded database, checked from outside (HTTP, a pg client, process table).
 * The two launcher tests share the data directory and run in order: the second one is the restart.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import Pg from "pg"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { rawRequest } from "./e2e/support/internalRoutes"
import {
  freePort,
  get,
  isAlive,
  killLeftovers,
  type Spawned,
  spawnTsx,
  track,
  waitFor200,
  within
} from "./support/processes"

afterEach(killLeftovers)

const dataDir = mkdtempSync(join(tmpdir(), "quasar-start-"))
afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

let ports = { web: 0, registry: 0, datahub: 0, trader: 0, db: 0 }
beforeAll(async () => {
  ports = {
    web: await freePort(),
    registry: await freePort(),
    datahub: await freePort(),
    trader: await freePort(),
    db: await freePort()
  }
})

const launch = (): Spawned =>
  spawnTsx("scripts/start.ts", {
    WEB_PORT: String(ports.web),
    REGISTRY_PORT: String(ports.registry),
    DATAHUB_PORT: String(ports.datahub),
    TRADER_PORT: String(ports.trader),
    QUASAR_EMBEDDED_DB_PORT: String(ports.db),
    QUASAR_DATA_DIR: dataDir,
    // No UI build here, whatever apps/web holds: `/` is the placeholder.
    QUASAR_WEB_DIST: join(dataDir, "no-web-build"),
    HOST: "127.0.0.1",
    LOG_LEVEL: "Info",
    // Empty counts as unset: the embedded database, a generated token, URLs derived from ports.
    DATABASE_URL: "",
    QUASAR_ADMIN_TOKEN: "",
    QUASAR_SERVICE_TOKEN: "",
    QUASAR_SECRET_KEY: "",
    REGISTRY_URL: "",
    DATAHUB_URL: ""
  })

/** The children's pids, from the launcher's "started registry (pid N), datahub (pid M) and trader (pid T)" line. */
const childPids = async (launcher: Spawned) => {
  // The embedded database opens first: on a busy machine that alone takes more than a few seconds.
  const line = await waitForOutput(
    launcher,
    /started registry \(pid (\d+)\), datahub \(pid (\d+)\) and trader \(pid (\d+)\)/,
    60_000
  )
  const pids = { registry: Number(line[1]), datahub: Number(line[2]), trader: Number(line[3]) }
  track(pids.registry)
  track(pids.datahub)
  track(pids.trader)
  return pids
}

const waitForOutput = async (launcher: Spawned, pattern: RegExp, timeoutMs = 10_000) => {
  const started = Date.now()
  for (;;) {
    const match = pattern.exec(launcher.stdout())
    if (match) return match
    if (Date.now() - started > timeoutMs || launcher.child.exitCode !== null) {
      throw new Error(`no ${pattern} in the output:\n${launcher.stdout()}\n${launcher.stderr()}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** The embedded database requires the password the launcher generated in the data directory. */
const withDb = async <A>(f: (client: Pg.Client) => Promise<A>): Promise<A> => {
  const password = readFileSync(join(dataDir, "embedded-db.password"), "utf8").trim()
  const client = new Pg.Client({
    host: "127.0.0.1",
    port: ports.db,
    user: "postgres",
    database: "postgres",
    password
  })
  await client.connect()
  try {
    return await f(client)
  } finally {
    await client.end()
  }
}

const allHealthy = async (launcher: Spawned) => {
  const started = Date.now()
  await Promise.all([
    waitFor200(`http://127.0.0.1:${ports.registry}/health`, 60_000, launcher),
    waitFor200(`http://127.0.0.1:${ports.datahub}/health`, 60_000, launcher),
    waitFor200(`http://127.0.0.1:${ports.trader}/health`, 60_000, launcher)
  ])
  return Date.now() - started
}

const tokenFile = join(dataDir, "admin-token")
const serviceTokenFile = join(dataDir, "service-token")
let firstToken = ""

describe("npm start (scripts/start.ts)", () => {
  it("brings the three services up within 60 s, serves port 3000, and stops cleanly on SIGTERM", async () => {
    const launcher = launch()
    const pids = await childPids(launcher)
    expect(await allHealthy(launcher)).toBeLessThan(60_000)
    const banner = (await waitForOutput(launcher, /Quasar is up[\s\S]*Ctrl-C stops everything/))[0]
    const startupOutput = launcher.stdout()
    expect(banner).toContain(`http://localhost:${ports.web}/`)
    expect(banner).toContain(`http://localhost:${ports.registry}/docs`)
    expect(banner).toContain(`Trader     http://localhost:${ports.trader}`)
    expect(banner).toContain(`http://localhost:${ports.web}/api/trader/`)

    const viaProxy = await Promise.all(
      ["registry", "datahub", "trader"].map((s) => get(`http://127.0.0.1:${ports.web}/api/${s}/health`))
    )
    expect(viaProxy.map((a) => a.status)).toEqual([200, 200, 200])
    expect(viaProxy.map((a) => JSON.parse(a.body).service)).toEqual(["registry", "datahub", "trader"])
    const page = await get(`http://127.0.0.1:${ports.web}/`)
    expect(page.status).toBe(200)
    expect(page.headers["content-type"]).toContain("text/html")
    expect(page.body).toContain("Quasar")
    expect(page.body).toContain("the UI comes in a later issue")

    // The write token: generated, owner-only, printed once, handed to the services.
    firstToken = readFileSync(tokenFile, "utf8").trim()
    expect(firstToken).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600)
    expect(launcher.stdout().split(`write token: ${firstToken}`)).toHaveLength(2)

    // The services' own credential: generated, owner-only, never printed, not the write token.
    const serviceToken = readFileSync(serviceTokenFile, "utf8").trim()
    expect(serviceToken).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(serviceToken).not.toBe(firstToken)
    expect(statSync(serviceTokenFile).mode & 0o777).toBe(0o600)
    expect(launcher.stdout()).not.toContain(serviceToken)
    // DataHub takes it (and only it) on its internal routes; port 3000 does not route them at all.
    const validate = (port: number, path: string, token?: string) =>
      rawRequest(port, path, {
        headers: {
          "content-type": "application/json",
          ...(token ? { authorization: `Bearer ${token}` } : {})
        },
        body: "{}"
      })
    expect((await validate(ports.datahub, "/internal/sandbox/validate", serviceToken)).status).toBe(400)
    expect((await validate(ports.datahub, "/internal/sandbox/validate", firstToken)).status).toBe(401)
    expect((await validate(ports.datahub, "/internal/sandbox/validate")).status).toBe(401)
    const routed = await validate(ports.web, "/api/datahub/internal/sandbox/validate", serviceToken)
    expect(routed.status).toBe(404)
    expect((await validate(ports.web, "/api/trader/internal/anything", serviceToken)).status).toBe(404)

    // Log lines from the services reach stdout as intact JSON when it is not a terminal.
    const jsonLines = launcher
      .stdout()
      .split("\n")
      .filter((l) => l.startsWith("{"))
    const logs = jsonLines.map((l) => JSON.parse(l) as { service?: string })
    expect(new Set(logs.map((l) => l.service))).toEqual(new Set(["registry", "datahub", "trader"]))
    // Starting up is not a reason for warnings (the services waiting for each other included).
    const startupWarnings = startupOutput
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { level?: string })
      .filter((l) => l.level === "WARN" || l.level === "ERROR")
    expect(startupWarnings).toEqual([])

    expect(statSync(join(dataDir, "embedded-db.password")).mode & 0o777).toBe(0o600)
    await withDb(async (db) => {
      await db.query("CREATE TABLE start_test_scratch (note text NOT NULL)")
      await db.query("INSERT INTO start_test_scratch VALUES ('kept across restarts')")
    })

    launcher.child.kill("SIGTERM")
    const exit = await within(20_000, "launcher exit after SIGTERM", launcher.exited)
    expect(exit).toEqual({ code: 0, signal: null })
    expect(isAlive(pids.registry)).toBe(false)
    expect(isAlive(pids.datahub)).toBe(false)
    expect(isAlive(pids.trader)).toBe(false)
    expect(launcher.stdout()).toContain("quasar: stopped")
    await expect(get(`http://127.0.0.1:${ports.web}/`, 1_000)).rejects.toThrow()
  }, 120_000)

  it("keeps the data and the token across a restart, and stops everything when a service dies", async () => {
    const launcher = launch()
    const pids = await childPids(launcher)
    await allHealthy(launcher)
    const rows = await withDb((db) => db.query<{ note: string }>("SELECT note FROM start_test_scratch"))
    expect(rows.rows).toEqual([{ note: "kept across restarts" }])
    expect(readFileSync(tokenFile, "utf8").trim()).toBe(firstToken)
    expect(readFileSync(serviceTokenFile, "utf8").trim()).toMatch(/^[A-Za-z0-9_-]{43}$/)
    await waitForOutput(launcher, new RegExp(`write token: ${firstToken}`))

    // A service that dies on its own takes everything down with exit code 1 and says why.
    process.kill(pids.registry, "SIGKILL")
    const exit = await within(20_000, "launcher exit after a child died", launcher.exited)
    expect(exit).toEqual({ code: 1, signal: null })
    expect(launcher.stderr()).toContain("registry was killed by SIGKILL; stopping everything")
    expect(isAlive(pids.datahub)).toBe(false)
    expect(isAlive(pids.trader)).toBe(false)
    await expect(get(`http://127.0.0.1:${ports.web}/`, 1_000)).rejects.toThrow()
  }, 120_000)
})
