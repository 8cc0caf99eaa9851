/**
 * DataHub as its own process, its database behind a proxy that stalls: SIGTERM still stops it
 * within the launcher's grace period (10 s before SIGKILL), and its sandbox directory goes too.
 */
import { readdirSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { TcpProxy, TestDatabase } from "@quasar/server/testing"
import { Effect, Exit, Scope } from "effect"
import { afterAll, afterEach, beforeAll, expect, it } from "vitest"
import { freePort, get, killLeftovers, spawnTsx, waitFor200, within } from "./support/processes"

afterEach(killLeftovers)

/** The launcher's grace period between SIGTERM and SIGKILL (scripts/launcher/services.ts). */
const GRACE_MS = 10_000

const scope = Effect.runSync(Scope.make())
let proxy: TcpProxy.TcpProxy | undefined
let databaseUrl = ""

beforeAll(async () => {
  const url = new URL(await Effect.runPromise(Scope.extend(TestDatabase.fresh, scope)))
  proxy = await Effect.runPromise(Scope.extend(TcpProxy.make(url.hostname, Number(url.port || 5432)), scope))
  url.hostname = "127.0.0.1"
  url.port = String(proxy.port)
  databaseUrl = url.toString()
}, 60_000)
afterAll(() => Effect.runPromise(Scope.close(scope, Exit.void)))

/** The sandbox roots owned by `pid` (SandboxWorkspace writes its owner's pid into each). */
const sandboxRootsOf = (pid: number) =>
  readdirSync(tmpdir())
    .filter((n) => n.startsWith("quasar-sandbox-"))
    .filter((n) => {
      try {
        return readFileSync(join(tmpdir(), n, "owner.pid"), "utf8") === String(pid)
      } catch {
        return false
      }
    })

it("SIGTERM stops DataHub within its grace period even when the database hangs", async () => {
  const port = await freePort()
  const service = spawnTsx("apps/datahub/src/main.ts", {
    DATAHUB_PORT: String(port),
    HOST: "127.0.0.1",
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: "Warn"
  })
  await waitFor200(`http://127.0.0.1:${port}/health`, 60_000, service)
  expect(sandboxRootsOf(service.pid)).toHaveLength(1)
  // Every connection DataHub holds now swallows its queries: nothing answers, nothing closes.
  await Effect.runPromise(proxy!.stall)
  // Requests in flight that wait on the database, and an API call that needs it too.
  const hanging = [`/health`, `/health`, `/subscriptions`].map((path) =>
    get(`http://127.0.0.1:${port}${path}`, 30_000).catch((e: unknown) => ({ status: 0, body: String(e) }))
  )
  await new Promise((r) => setTimeout(r, 500))
  const termAt = Date.now()
  service.child.kill("SIGTERM")
  const exit = await within(GRACE_MS + 5_000, "exit after SIGTERM", service.exited)
  const stoppedIn = Date.now() - termAt
  // Not SIGKILLed: it exited by itself (code 1 when the deadline cut a hanging finalizer short).
  expect(exit.signal).toBeNull()
  if (exit.code !== 0) expect(service.stderr()).toContain("did not finish within 8 s")
  expect(stoppedIn).toBeLessThan(GRACE_MS)
  // Each in-flight request got an answer or its connection closed; none is left hanging.
  expect(await within(5_000, "in-flight requests settle", Promise.all(hanging))).toHaveLength(3)
  expect(sandboxRootsOf(service.pid)).toEqual([])
}, 120_000)
