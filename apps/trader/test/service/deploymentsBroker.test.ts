/**
 * Deployments on a broker account, against the fake Kraken through kraken-broker in process: the
 * order is recorded as sending before the broker gets it, then with the broker's order; fills come
 * from the broker's reports and move cash and positions once; the kill switch cancels at the
 * broker and sells at market until flat; what the broker refuses is recorded refused and moves no
 * money; a symbol the broker has no mapping for, or an unknown broker, is refused at create.
 */
import { expect, it } from "@effect/vitest"
import type { DeploymentRequest } from "@quasar/domain"
import { type FakeKraken, startFakeKraken } from "@quasar/providers/testing"
import { Effect } from "effect"
import { afterAll, beforeAll } from "vitest"
import { QUANTITY } from "./brokerModules"
import {
  auditOf,
  BROKER,
  type BrokerAccount,
  brokerDeployment,
  deploymentOf,
  eventually,
  fillsOf,
  onBrokerAccount,
  ordersOf,
  type TraderClient
} from "./brokerSupport"
import { feed } from "./deploymentsSupport"
import { T0 } from "./support"

let fake: FakeKraken
beforeAll(async () => {
  fake = await startFakeKraken({ updateEveryMs: 60_000, heartbeatEveryMs: 60_000 })
})
afterAll(() => fake.close())

it.scopedLive(
  "a broker deployment sends its orders to the broker, records them with the broker's ids, and counts the fill once",
  () =>
    onBrokerAccount(fake, (api, account) =>
      Effect.gen(function* () {
        const created = yield* api.deployments.create({ payload: brokerDeployment() })
        expect(created.account).toEqual({
          type: "broker",
          broker: BROKER,
          quote: "USD",
          initialCash: 10_000
        })
        yield* api.deployments.start({ path: { id: created.id } })
        const price = fake.exchange.price("XBT/USD")
        yield* feed(created.id, 1, 0, price)
        const fills = yield* eventually(fillsOf(created.id), (f) => f.length === 1, "the market buy's fill")
        const orders = yield* eventually(
          ordersOf(created.id),
          (o) => o.every((x) => x.status !== "sending"),
          "both orders recorded"
        )
        expect(orders.map((o) => [o.clientOrderId, o.side, o.type, o.status])).toEqual([
          [`${created.id}-${T0}-0`, "buy", "market", "filled"],
          [`${created.id}-${T0}-1`, "buy", "limit", "open"]
        ])
        // The broker's own ids, and exactly these two orders at the broker, in its symbol.
        const atBroker = fake.exchange.account(account.key).orders
        expect(atBroker).toHaveLength(2)
        expect(orders.map((o) => o.orderId).sort()).toEqual(atBroker.map((o) => o.txid).sort())
        expect(fills[0]).toMatchObject({
          clientOrderId: `${created.id}-${T0}-0`,
          symbol: "BTC/USD",
          quantity: QUANTITY
        })
        const view = yield* deploymentOf(created.id)
        expect(view.positions).toMatchObject([{ symbol: "BTC/USD", quantity: QUANTITY }])
        expect(view.cash).toBeCloseTo(10_000 - QUANTITY * fills[0]!.price - fills[0]!.fee, 6)
        const audit = yield* auditOf(created.id)
        expect(
          audit
            .filter((a) => a.clientOrderId === `${created.id}-${T0}-0`)
            .map((a) => a.decision)
            .sort()
        ).toEqual(["accepted", "placed", "sending"])
        // The portfolio reads the broker's fill as it reads a paper one.
        const portfolio = yield* api.portfolio.account({ path: { id: created.id } })
        expect(portfolio).toMatchObject({ initialCash: 10_000, quote: "USD", cash: view.cash })
        expect(portfolio.fills.map((f) => f.fillId)).toEqual([fills[0]!.fillId])
        // The same bar again places nothing twice.
        yield* feed(created.id, 1, 0, price)
        expect(fake.exchange.account(account.key).orders).toHaveLength(2)
      })
    ),
  30_000
)

/** A broker deployment, started, that has seen its first closed bar at the fake Kraken's price. */
const startedOnFirstBar = (api: TraderClient) =>
  Effect.gen(function* () {
    const created = yield* api.deployments.create({ payload: brokerDeployment() })
    yield* api.deployments.start({ path: { id: created.id } })
    yield* feed(created.id, 1, 0, fake.exchange.price("XBT/USD"))
    return created
  })

/** Nothing left open at the broker, and no bitcoin held there. */
const expectFlatAtBroker = (account: BrokerAccount) => {
  const state = fake.exchange.account(account.key)
  expect(state.orders.filter((o) => o.status === "open")).toEqual([])
  expect(state.balances.XXBT ?? 0).toBeCloseTo(0, 9)
}

it.scopedLive(
  "the kill switch on a broker account cancels its open orders at the broker and sells at market until flat",
  () =>
    onBrokerAccount(fake, (api, account) =>
      Effect.gen(function* () {
        const created = yield* startedOnFirstBar(api)
        yield* eventually(fillsOf(created.id), (f) => f.length === 1, "the market buy's fill")
        yield* api.deployments.kill({ path: { id: created.id } })
        const ended = yield* eventually(deploymentOf(created.id), (d) => d.status === "killed", "killed")
        expect(ended.positions).toEqual([])
        expectFlatAtBroker(account)
        const orders = yield* ordersOf(created.id)
        expect(orders.map((o) => [o.side, o.type, o.status])).toEqual([
          ["buy", "market", "filled"],
          ["buy", "limit", "canceled"],
          ["sell", "market", "filled"]
        ])
      })
    ),
  30_000
)

it.scopedLive(
  "the kill switch on a stopped broker deployment sends its cancels and sells when its fiber starts again",
  () =>
    onBrokerAccount(fake, (api, account) =>
      Effect.gen(function* () {
        const created = yield* startedOnFirstBar(api)
        yield* eventually(fillsOf(created.id), (f) => f.length === 1, "the market buy's fill")
        yield* eventually(ordersOf(created.id), (o) => o[1]?.status === "open", "the resting limit buy")
        yield* api.deployments.stop({ path: { id: created.id } })
        yield* api.deployments.kill({ path: { id: created.id } })
        yield* eventually(deploymentOf(created.id), (d) => d.status === "killed", "killed")
        expectFlatAtBroker(account)
        expect((yield* ordersOf(created.id)).map((o) => o.status)).toEqual(["filled", "canceled", "filled"])
      })
    ),
  30_000
)

it.scopedLive(
  "an order the broker refuses (insufficient funds) is recorded refused with the reason and moves no money",
  () =>
    onBrokerAccount(
      fake,
      (api, account) =>
        Effect.gen(function* () {
          const created = yield* startedOnFirstBar(api)
          const orders = yield* eventually(
            ordersOf(created.id),
            (o) => o.length === 2 && o.every((x) => x.status === "rejected"),
            "both orders refused"
          )
          expect(orders[0]!.reason).toMatch(/^insufficientFunds: /)
          expect(orders[0]!.orderId).toBeNull()
          const audit = yield* auditOf(created.id)
          expect(audit.filter((a) => a.decision === "refused")).toHaveLength(2)
          const state = fake.exchange.account(account.key)
          expect(state.orders).toEqual([])
          expect(state.balances).toEqual({ ZUSD: 1 })
          expect(yield* fillsOf(created.id)).toEqual([])
        }),
      { ZUSD: 1 }
    ),
  30_000
)

it.scopedLive(
  "a symbol the broker has no mapping for, or an unknown broker, is refused before the deployment starts",
  () =>
    onBrokerAccount(fake, (api) =>
      Effect.gen(function* () {
        const unmapped = yield* Effect.flip(
          api.deployments.create({
            payload: brokerDeployment({ strategy: "broker-eth" as DeploymentRequest["strategy"] })
          })
        )
        expect(unmapped).toMatchObject({ _tag: "InvalidRequest", field: "account.broker" })
        expect(unmapped.message).toContain("kraken-broker has no mapping for ETH/USD")
        const unknown = yield* Effect.flip(
          api.deployments.create({
            payload: brokerDeployment({
              account: { type: "broker", broker: "nope" as DeploymentRequest["provider"], quote: "USD" }
            })
          })
        )
        expect(unknown._tag).toBe("NotFound")
        expect(yield* api.deployments.list({ urlParams: {} })).toEqual([])
      })
    )
)

it.scopedLive(
  "an order whose call times out is looked up at the broker, not guessed: recorded once it shows, or unplaced once it no longer can",
  () =>
    onBrokerAccount(fake, (api, account) =>
      Effect.gen(function* () {
        const once = { strategy: "broker-buy-once" as DeploymentRequest["strategy"] }
        // Executed 1.5 s after it arrives, past the broker's 1 s timeout but within its 2 s deadline.
        fake.exchange.queueRequests(1_500, 1, "AddOrder")
        const late = yield* api.deployments.create({ payload: brokerDeployment(once) })
        yield* api.deployments.start({ path: { id: late.id } })
        yield* feed(late.id, 1, 0, fake.exchange.price("XBT/USD"))
        const recorded = yield* eventually(
          ordersOf(late.id),
          (o) => o[0]?.status === "filled",
          "the late order"
        )
        const atBroker = fake.exchange.account(account.key).orders
        expect(atBroker).toHaveLength(1)
        expect(recorded[0]!.orderId).toBe(atBroker[0]!.txid)
        yield* api.deployments.stop({ path: { id: late.id } })

        // Executed after its deadline: Kraken rejects it, so it never shows.
        fake.exchange.queueRequests(2_500, 1, "AddOrder")
        const lost = yield* api.deployments.create({ payload: brokerDeployment(once) })
        yield* api.deployments.start({ path: { id: lost.id } })
        yield* feed(lost.id, 1, 1, fake.exchange.price("XBT/USD"))
        const unplaced = yield* eventually(
          ordersOf(lost.id),
          (o) => o[0]?.status === "unplaced",
          "the lost order"
        )
        expect(unplaced[0]!.orderId).toBeNull()
        expect((yield* auditOf(lost.id)).map((a) => a.decision)).toContain("unplaced")
        expect(fake.exchange.account(account.key).orders.filter((o) => o.status !== "canceled")).toHaveLength(
          1
        )
      })
    ),
  60_000
)
