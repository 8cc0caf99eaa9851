/**
 * A service as its own process (`node --import tsx apps/<svc>/src/main.ts`): a bad setting stops
 * it at once with one line naming the variable; SIGTERM stops it promptly with exit code 0,
 * after answering what it was already answering. To have requests genuinely in flight, the
 * service reaches its database through a proxy that can hold the database's replies back.
 */
import { connect, createServer, type Server, type Socket } from "node:net"
import { TestDatabase } from "@quasar/server/testing"
import { Effect, Exit, Scope } from "effect"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { type Answer, freePort, get, killLeftovers, spawnTsx, waitFor200, within } from "./support/processes"

afterEach(killLeftovers)

describe("a service with a bad setting", () => {
  it.each([
    ["REGISTRY_PORT", "abc"],
    ["DATABASE_POOL_SIZE", "0"],
    ["LOG_LEVEL", "loud"],
    ["QUASAR_ADMIN_TOKEN", "thirty-one-characters-long-0123"],
    ["QUASAR_SERVICE_TOKEN", "too-short"],
    ["QUASAR_CORS_ORIGINS", "https://ui.example/path"]
  ])(
    "%s=%s: exits with code 1 and one line on stderr naming it",
    async (variable, value) => {
      // vitest's LOG_LEVEL=Warning is not a level Effect knows ("Warn" is): set a valid one.
      const service = spawnTsx("apps/registry/src/main.ts", {
        LOG_LEVEL: "Warn",
        DATABASE_URL: "",
        [variable]: value
      })
      const exit = await within(30_000, "exit on bad config", service.exited)
      expect(exit).toEqual({ code: 1, signal: null })
      const lines = service
        .stderr()
        .split("\n")
        .filter((l) => l.trim() !== "")
      expect(lines).toHaveLength(1)
      expect(lines[0]).toContain(`${variable}:`)
    },
    40_000
  )
})

/** A TCP proxy that can delay every reply from the upstream by `delayMs`. */
const delayingProxy = (host: string, port: number) => {
  const state = { delayMs: 0, held: 0 }
  const sockets = new Set<Socket>()
  const server: Server = createServer((client) => {
    const upstream = connect({ host, port })
    sockets.add(client).add(upstream)
    const close = () => {
      client.destroy()
      upstream.destroy()
    }
    client.on("error", close).on("close", close)
    upstream.on("error", close).on("close", close)
    client.pipe(upstream)
    upstream.on("data", (chunk: Buffer) => {
      if (state.delayMs === 0) client.write(chunk)
      else {
        // Same delay for every chunk, so the order of the replies is kept.
        state.held++
        setTimeout(() => client.writable && client.write(chunk), state.delayMs)
      }
    })
  })
  return {
    state,
    listen: () =>
      new Promise<number>((resolve) =>
        server.listen(0, "127.0.0.1", () => {
          const address = server.address()
          resolve(typeof address === "object" && address !== null ? address.port : 0)
        })
      ),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      })
  }
}

describe("a running service and SIGTERM", () => {
  const scope = Effect.runSync(Scope.make())
  let proxy: ReturnType<typeof delayingProxy> | undefined
  let databaseUrl = ""

  beforeAll(async () => {
    // Our own database on the test server (or an in-memory PGlite when there is none).
    const url = new URL(await Effect.runPromise(Scope.extend(TestDatabase.fresh, scope)))
    proxy = delayingProxy(url.hostname, Number(url.port || 5432))
    url.hostname = "127.0.0.1"
    url.port = String(await proxy.listen())
    databaseUrl = url.toString()
  })
  afterAll(async () => {
    await proxy?.close()
    await Effect.runPromise(Scope.close(scope, Exit.void))
  })

  const start = async (name: "registry" | "datahub") => {
    const port = await freePort()
    const service = spawnTsx(`apps/${name}/src/main.ts`, {
      [name === "registry" ? "REGISTRY_PORT" : "DATAHUB_PORT"]: String(port),
      HOST: "127.0.0.1",
      DATABASE_URL: databaseUrl,
      LOG_LEVEL: "Warn"
    })
    await waitFor200(`http://127.0.0.1:${port}/health`, 60_000, service)
    return { service, url: `http://127.0.0.1:${port}` }
  }

  it("finishes the requests in flight (slow and a burst), then exits 0 promptly", async () => {
    const { service, url } = await start("registry")
    const state = proxy!.state
    // Every database reply now takes 600 ms, so /health (SELECT 1) is slow.
    state.held = 0
    state.delayMs = 600
    const sentAt = Date.now()
    const burst = Array.from({ length: 20 }, () =>
      get(`${url}/health`, 15_000).then(
        (answer): Answer & { at: number } => ({ ...answer, at: Date.now() }),
        (e: unknown) => ({ status: 0, body: String(e), headers: {}, at: Date.now() })
      )
    )
    // SIGTERM once the database has answered a query the service has not received yet.
    while (state.held === 0 && Date.now() - sentAt < 10_000) await new Promise((r) => setTimeout(r, 10))
    expect(state.held).toBeGreaterThan(0)
    const termAt = Date.now()
    service.child.kill("SIGTERM")
    const answers = await Promise.all(burst)
    const exit = await within(10_000, "exit after SIGTERM", service.exited)
    const stoppedIn = Date.now() - termAt
    state.delayMs = 0

    expect(exit).toEqual({ code: 0, signal: null })
    // Every request got an HTTP answer (none was cut off), and some answered after SIGTERM:
    // those were in flight when it arrived.
    expect(answers.filter((a) => a.status !== 200 && a.status !== 503).map((a) => a.body)).toEqual([])
    expect(answers.filter((a) => a.status === 200).length).toBeGreaterThan(0)
    expect(answers.filter((a) => a.at > termAt).length).toBeGreaterThan(0)
    expect(stoppedIn).toBeLessThan(10_000)
  }, 90_000)

  it("exits 0 on SIGTERM when idle, and releases its port", async () => {
    const { service, url } = await start("datahub")
    const termAt = Date.now()
    service.child.kill("SIGTERM")
    expect(await within(10_000, "exit after SIGTERM", service.exited)).toEqual({ code: 0, signal: null })
    expect(Date.now() - termAt).toBeLessThan(5_000)
    await expect(get(`${url}/health`, 1_000)).rejects.toThrow()
  }, 90_000)
})
