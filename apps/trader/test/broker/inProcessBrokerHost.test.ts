/** The in-process BrokerHost (the deployments' test host) runs kraken-broker against the fake Kraken. */
import { randomUUID } from "node:crypto"
import { krakenBroker } from "@quasar/providers/kraken"
import { startFakeKraken } from "@quasar/providers/testing"
import { Chunk, Effect, Option, Stream } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { BrokerHost } from "../../src/broker/BrokerHost"
import * as InProcessBrokerHost from "../../src/testing/InProcessBrokerHost"

let fake: Awaited<ReturnType<typeof startFakeKraken>>
beforeAll(async () => {
  fake = await startFakeKraken({ updateEveryMs: 60_000, heartbeatEveryMs: 60_000 })
})
afterAll(() => fake.close())

const hostFor = (key: string, secret: string) =>
  InProcessBrokerHost.layer({
    modules: {
      "kraken-broker": {
        broker: krakenBroker,
        settings: { restUrl: fake.restUrl, apiKey: key, apiSecret: secret, pollIntervalMs: 20 }
      }
    }
  })

describe("InProcessBrokerHost", () => {
  it("places an order once per client order id, finds it, and streams its fill", async () => {
    const account = fake.exchange.addAccount({ key: `t-${randomUUID()}`, balances: { ZUSD: 100_000 } })
    const clientOrderId = randomUUID()
    const since = Date.now() - 1_000
    const result = await Effect.gen(function* () {
      const handle = yield* (yield* BrokerHost).open("kraken-broker")
      const request = {
        clientOrderId,
        symbol: "XBT/USD",
        side: "buy",
        type: "market",
        quantity: 0.1
      } as const
      const first = yield* handle.placeOrder(request)
      const again = yield* handle.placeOrder(request)
      const found = yield* handle.findOrder({ clientOrderId })
      const balances = yield* handle.balances
      const fill = yield* handle.orderUpdates(since).pipe(
        Stream.filter((e) => e.type === "fill"),
        Stream.take(1),
        Stream.runCollect
      )
      return { first, again, found, balances, fill: Chunk.toReadonlyArray(fill) }
    }).pipe(Effect.scoped, Effect.provide(hostFor(account.key, account.secret)), Effect.runPromise)
    expect(result.again.orderId).toBe(result.first.orderId)
    expect(result.first).toMatchObject({ clientOrderId, status: "filled", filledQuantity: 0.1 })
    expect(Option.getOrThrow(result.found).orderId).toBe(result.first.orderId)
    expect(result.balances.find((b) => b.asset === "BTC")?.total).toBeCloseTo(0.1, 8)
    expect(result.fill[0]).toMatchObject({
      type: "fill",
      fill: { orderId: result.first.orderId, clientOrderId }
    })
  })

  it("maps a refused secret to BrokerRejected invalidCredentials and an unknown broker to a rejection", async () => {
    const account = fake.exchange.addAccount({ key: `t-${randomUUID()}`, balances: { ZUSD: 100_000 } })
    const wrong = Buffer.from("not the secret").toString("base64")
    const [credentials, unknown] = await Effect.gen(function* () {
      const host = yield* BrokerHost
      const handle = yield* host.open("kraken-broker")
      return [yield* Effect.flip(handle.balances), yield* Effect.flip(host.open("nope"))] as const
    }).pipe(Effect.scoped, Effect.provide(hostFor(account.key, wrong)), Effect.runPromise)
    expect(credentials).toMatchObject({ _tag: "BrokerRejected", reason: "invalidCredentials" })
    expect(credentials.message).toMatch(/settings/)
    expect(unknown).toMatchObject({ _tag: "BrokerRejected", broker: "nope" })
  })
})
