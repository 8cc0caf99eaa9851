/**
 * A broker deployment reconciled with the broker, against the fake Kraken through kraken-broker in
 * process: money that left the account while the deployment was stopped is an audit entry when it
 * starts again (nothing is moved), and what happened while the broker's order updates were down
 * (a fill, a cancel on Kraken's site) is recorded once they come back, once.
 */
import { expect, it } from "@effect/vitest"
import type { DeploymentRequest } from "@quasar/domain"
import { type FakeKraken, startFakeKraken } from "@quasar/providers/testing"
import { Duration, Effect } from "effect"
import { afterAll, beforeAll } from "vitest"
import { QUANTITY } from "./brokerModules"
import { auditOf, brokerDeployment, eventually, fillsOf, onBrokerAccount, ordersOf } from "./brokerSupport"
import { feed } from "./deploymentsSupport"

let fake: FakeKraken
beforeAll(async () => {
  fake = await startFakeKraken({ updateEveryMs: 60_000, heartbeatEveryMs: 60_000 })
})
afterAll(() => fake.close())

const once = { strategy: "broker-buy-once" as DeploymentRequest["strategy"] }

/** The broker's TradesHistory answers past its 1 s request timeout: its order updates fail and restart. */
const updatesDown = () => fake.exchange.delayAnswers(1_500, 1, "TradesHistory")

it.scopedLive(
  "cash withdrawn at the broker while the deployment was stopped is an audit entry when it starts again",
  () =>
    onBrokerAccount(fake, (api, account) =>
      Effect.gen(function* () {
        const created = yield* api.deployments.create({ payload: brokerDeployment(once) })
        yield* api.deployments.start({ path: { id: created.id } })
        yield* feed(created.id, 1, 0, fake.exchange.price("XBT/USD"))
        yield* eventually(fillsOf(created.id), (f) => f.length === 1, "the market buy's fill")
        yield* api.deployments.stop({ path: { id: created.id } })
        // The balances matched the ledger when it started and after the fill: nothing reported.
        expect((yield* auditOf(created.id)).map((a) => a.decision)).not.toContain("balance-short")
        fake.exchange.withdraw(account.key, "ZUSD", 9_000)
        const before = fake.exchange.account(account.key).balances
        yield* api.deployments.start({ path: { id: created.id } })
        const audit = yield* eventually(
          auditOf(created.id),
          (a) => a.some((x) => x.decision === "balance-short"),
          "the shortfall audited"
        )
        const short = audit.filter((a) => a.decision === "balance-short")
        expect(short).toHaveLength(1)
        expect(short[0]).toMatchObject({ kind: "risk", clientOrderId: null })
        expect(short[0]!.message).toContain("USD where")
        // The bitcoin is all there: only what is missing is reported.
        expect(short[0]!.message).not.toContain("BTC where")
        // Nothing moved to "fix" it, and the deployment keeps running.
        expect(fake.exchange.account(account.key).balances).toEqual(before)
        expect((yield* api.deployments.get({ path: { id: created.id } })).status).toBe("running")
      })
    ),
  30_000
)

it.scopedLive(
  "an order that fills while the broker's order updates are down is recorded once, with its fill, when they come back",
  () =>
    onBrokerAccount(fake, (api, account) =>
      Effect.gen(function* () {
        const created = yield* api.deployments.create({ payload: brokerDeployment(once) })
        yield* api.deployments.start({ path: { id: created.id } })
        updatesDown()
        yield* feed(created.id, 1, 0, fake.exchange.price("XBT/USD"))
        const fills = yield* eventually(fillsOf(created.id), (f) => f.length === 1, "the fill")
        const trades = fake.exchange.account(account.key).trades
        expect(trades).toHaveLength(1)
        expect(fills[0]).toMatchObject({ fillId: trades[0]!.txid, quantity: QUANTITY })
        expect((yield* ordersOf(created.id)).map((o) => o.status)).toEqual(["filled"])
        // Polls go on after the restart (every 20 ms): the fill they repeat is not counted again.
        yield* Effect.sleep(Duration.millis(500))
        expect(yield* fillsOf(created.id)).toHaveLength(1)
      })
    ),
  30_000
)

it.scopedLive(
  "an order cancelled on the broker's site while its order updates are down is recorded cancelled when they come back",
  () =>
    onBrokerAccount(fake, (api, account) =>
      Effect.gen(function* () {
        const created = yield* api.deployments.create({ payload: brokerDeployment() })
        yield* api.deployments.start({ path: { id: created.id } })
        yield* feed(created.id, 1, 0, fake.exchange.price("XBT/USD"))
        const orders = yield* eventually(
          ordersOf(created.id),
          (o) => o[1]?.status === "open",
          "the resting limit buy"
        )
        updatesDown()
        fake.exchange.cancelOnSite(account.key, orders[1]!.orderId!)
        const after = yield* eventually(
          ordersOf(created.id),
          (o) => o[1]?.status === "canceled",
          "the limit buy recorded cancelled"
        )
        expect(after.map((o) => o.status)).toEqual(["filled", "canceled"])
        expect((yield* auditOf(created.id)).map((a) => a.decision)).toContain("canceled")
      })
    ),
  30_000
)
