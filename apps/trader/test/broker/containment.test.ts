/**
 * Broker code in its sandbox reaches only what its settings name, and nothing of Trader: hosts
 * its URL settings do not name, private addresses, its own network, the file system, the
 * environment (QUASAR_SECRET_KEY) and forged IPC messages are all refused and logged, and the
 * host keeps serving (the child is started again after it was killed).
 */
import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { BrokerHost } from "../../src/broker/BrokerHost"
import { useSandboxedBrokers } from "./support"

const env = useSandboxedBrokers({ callTimeout: "5 seconds" })

const hostile = (port: number) => `import { defineBroker } from "@quasar/providers/sdk"
const order = { orderId: "O1", clientOrderId: undefined, symbol: "X/Y", side: "buy", type: "market",
  quantity: 1, filledQuantity: 0, status: "open", createdAt: 0 }
export default defineBroker({
  name: "hostile", displayName: "Hostile", version: "1.0.0",
  settings: { restUrl: { type: "url", label: "REST" }, otherUrl: { type: "url", label: "Other" } },
  async listAssets() { return [] },
  // Allowed: the host its settings name, on the port the operator opened.
  async balances(ctx) {
    const res = await ctx.fetch(ctx.settings.restUrl + "/0/public/Time")
    return [{ asset: "STATUS", total: res.status }]
  },
  // The same machine under a name its settings do not give.
  async openOrders(ctx) { await ctx.fetch("http://localhost:${port}/0/public/Time"); return [] },
  // A private address its settings do name: the policy still refuses it.
  async findOrder(ctx) { await ctx.fetch(ctx.settings.otherUrl); return undefined },
  // Its own network, past the relay.
  async positions() { await fetch("http://127.0.0.1:${port}/0/public/Time"); return [] },
  async cancelOrder() { return process.getBuiltinModule("node:fs").readFileSync("/etc/passwd", "utf8") },
  async placeOrder(ctx, o) {
    if (o.symbol === "ENV")
      return { ...order, symbol: String(process.env.QUASAR_SECRET_KEY), quantity: Object.keys(process.env).length + 1 }
    process.send({ _tag: "Result", id: 0, value: "forged" })
    process.send({ _tag: "Loaded", token: "forged", name: "someone-else" })
    return new Promise(() => undefined)
  },
  async *orderUpdates() { yield { type: "heartbeat" } }
})
`

const open = Effect.flatMap(BrokerHost, (host) => host.open("hostile"))
const put = Effect.suspend(() =>
  env.putBroker("hostile", hostile(env.fake.port), {
    restUrl: env.fake.restUrl,
    otherUrl: "http://10.11.12.13:8080/"
  })
)
const denials = () => env.logs.filter((l) => l.message === "sandbox egress denied")

describe("broker code in its sandbox", () => {
  it("reaches the host its settings name, and no other name, private address or network of its own", async () => {
    const { balances, unnamed, privateAddress, ownNetwork } = await env.run(
      Effect.gen(function* () {
        yield* put
        const handle = yield* open
        return {
          balances: yield* handle.balances,
          unnamed: yield* Effect.flip(handle.openOrders),
          privateAddress: yield* Effect.flip(handle.findOrder({ orderId: "O1" })),
          ownNetwork: yield* Effect.flip(handle.positions)
        }
      })
    )
    expect(balances).toEqual([{ asset: "STATUS", total: 200 }])
    expect(unnamed).toMatchObject({ _tag: "BrokerRejected" })
    expect(unnamed.message).toMatch(
      /egress policy refused http:\/\/localhost:\d+\/0\/public\/Time: localhost is not a host/
    )
    expect(privateAddress).toMatchObject({ _tag: "BrokerRejected" })
    expect(privateAddress.message).toMatch(/10\.11\.12\.13 is a private range/)
    expect(ownNetwork).toMatchObject({ _tag: "BrokerUnavailable" })
    expect(ownNetwork.message).toMatch(/the sandbox denied/)
    expect(denials().map((l) => l.annotations)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          broker: "hostile",
          reason: expect.stringMatching(/^localhost is not a host/)
        }),
        expect.objectContaining({ broker: "hostile", reason: expect.stringMatching(/private range/) })
      ])
    )
  })

  it("cannot read the file system or see Trader's environment", async () => {
    const { files, secret } = await env.run(
      Effect.gen(function* () {
        yield* put
        const handle = yield* open
        const files = yield* Effect.flip(handle.cancelOrder({ orderId: "O1" }))
        const secret = yield* handle.placeOrder({
          clientOrderId: "c",
          symbol: "ENV",
          side: "buy",
          type: "market",
          quantity: 1
        })
        return { files, secret }
      })
    )
    expect(files.message).toMatch(/the sandbox denied FileSystemRead/)
    expect(env.logs.some((l) => l.message === "the sandbox denied an operation")).toBe(true)
    expect(process.env.QUASAR_SECRET_KEY).toBeDefined()
    expect(secret.symbol).toBe("undefined")
    expect(secret.quantity).toBe(1)
  })

  it("is killed for a forged message, the order call says stateUnknown, and the next call gets a new child", async () => {
    const { forged, after } = await env.run(
      Effect.gen(function* () {
        yield* put
        const handle = yield* open
        const forged = yield* Effect.flip(
          handle.placeOrder({ clientOrderId: "f", symbol: "X/Y", side: "buy", type: "market", quantity: 1 })
        )
        return { forged, after: yield* handle.balances }
      })
    )
    expect(forged).toMatchObject({ _tag: "BrokerUnavailable", reason: "stateUnknown" })
    expect(forged.message).toMatch(/malformed/)
    expect(after).toEqual([{ asset: "STATUS", total: 200 }])
    expect(env.logs.some((l) => l.message === "starting the broker's sandbox again")).toBe(true)
  })
})
