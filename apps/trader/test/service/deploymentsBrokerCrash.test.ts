/**
 * Trader SIGKILLed between sending an order to the broker and recording the broker's answer: the
 * order stays recorded as `sending`. Trader started again on the same database finds it at the
 * broker by its client order id and records it; the broker has exactly one order, filled once.
 */
import { randomBytes } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type FakeKraken, startFakeKraken } from "@quasar/providers/testing"
import { TestDatabase } from "@quasar/server/testing"
import { Effect, Exit, Scope } from "effect"
import { afterAll, afterEach, beforeAll, expect, it } from "vitest"
import { freePort, killLeftovers, spawnTsx, waitFor200, within } from "../../../../test/support/processes"
import { BAR0, ORDER_AT_BROKER, QUANTITY } from "./brokerModules"

afterEach(killLeftovers)

const scope = Effect.runSync(Scope.make())
const dataDir = mkdtempSync(join(tmpdir(), "quasar-broker-crash-"))
let fake: FakeKraken
let databaseUrl = ""

beforeAll(async () => {
  fake = await startFakeKraken({ updateEveryMs: 60_000, heartbeatEveryMs: 60_000 })
  databaseUrl = await Effect.runPromise(Scope.extend(TestDatabase.fresh, scope))
}, 60_000)
afterAll(async () => {
  await fake?.close()
  await Effect.runPromise(Scope.close(scope, Exit.void))
  rmSync(dataDir, { recursive: true, force: true })
})

const until = async (what: string, check: () => Promise<boolean> | boolean, ms = 30_000) => {
  const started = Date.now()
  while (!(await check())) {
    if (Date.now() - started > ms) throw new Error(`${what}: not within ${ms} ms`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

interface Order {
  readonly clientOrderId: string
  readonly orderId: string | null
  readonly status: string
}

it("an order sent just before Trader is SIGKILLed is found at the broker after the restart, recorded, and placed once", async () => {
  const account = fake.exchange.addAccount({
    key: `crash-${randomBytes(8).toString("hex")}`,
    balances: { ZUSD: 10_000 }
  })
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const adminToken = randomBytes(32).toString("base64url")
  const env: Record<string, string> = {
    HOST: "127.0.0.1",
    TRADER_PORT: String(port),
    DATABASE_URL: databaseUrl,
    DATABASE_POOL_SIZE: "5",
    QUASAR_DATA_DIR: dataDir,
    QUASAR_ADMIN_TOKEN: adminToken,
    QUASAR_SERVICE_TOKEN: randomBytes(32).toString("base64url"),
    LOG_LEVEL: "Info",
    FAKE_KRAKEN_URL: fake.restUrl,
    BROKER_API_KEY: account.key,
    BROKER_API_SECRET: account.secret,
    BAR_PRICE: String(fake.exchange.price("XBT/USD"))
  }
  const call = async (method: "GET" | "POST", path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    const text = await res.text()
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`)
    return JSON.parse(text) as unknown
  }
  const orders = () => call("GET", "/deployments/1/orders") as Promise<ReadonlyArray<Order>>
  const entry = "apps/trader/test/service/brokerTraderProcess.ts"

  const first = spawnTsx(entry, { ...env, HANG_AFTER_PLACE: "1" })
  await waitFor200(`${base}/health`, 60_000, first)
  const created = (await call("POST", "/deployments", {
    strategy: "broker-buy-once",
    provider: "kraken",
    params: {},
    account: { type: "broker", broker: "kraken-broker" },
    risk: { maxOrderNotional: 1_000_000, maxPositionNotional: 1_000_000, maxDailyLoss: 1_000_000 }
  })) as { id: number }
  expect(created.id).toBe(1)
  await call("POST", "/deployments/1/start")
  await until("the order reaches the broker", () => first.stdout().includes(ORDER_AT_BROKER))
  expect(fake.exchange.account(account.key).orders).toHaveLength(1)
  expect((await orders()).map((o) => [o.clientOrderId, o.orderId, o.status])).toEqual([
    [`1-${BAR0}-0`, null, "sending"]
  ])
  first.child.kill("SIGKILL")
  expect((await within(10_000, "the first Trader exits", first.exited)).signal).toBe("SIGKILL")

  const second = spawnTsx(entry, env)
  await waitFor200(`${base}/health`, 60_000, second)
  await until("the order is recorded", async () => (await orders()).every((o) => o.status !== "sending"))
  await until(
    "the fill is recorded",
    async () => ((await call("GET", "/deployments/1/fills")) as Array<unknown>).length === 1
  )
  const atBroker = fake.exchange.account(account.key).orders
  expect(atBroker).toHaveLength(1)
  expect((await orders()).map((o) => [o.clientOrderId, o.orderId, o.status])).toEqual([
    [`1-${BAR0}-0`, atBroker[0]!.txid, "filled"]
  ])
  const deployment = (await call("GET", "/deployments/1")) as {
    status: string
    positions: Array<{ quantity: number }>
  }
  expect(deployment.status).toBe("running")
  expect(deployment.positions.map((p) => p.quantity)).toEqual([QUANTITY])
}, 120_000)
