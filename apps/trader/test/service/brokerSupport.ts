/**
 * Deployments on a broker account as tests run them: kraken-broker in process against the fake
 * Kraken (a fresh funded account per test), BTC/USD mapped to Kraken's XBT/USD for the broker,
 * and the strategies of brokerModules.ts.
 */
import { randomUUID } from "node:crypto"
import type { DeploymentId, DeploymentRequest } from "@quasar/domain"
import { krakenBroker } from "@quasar/providers/kraken"
import type { FakeKraken } from "@quasar/providers/testing"
import { Duration, Effect, Schedule } from "effect"
import { SymbolMappings } from "../../src/strategies/SymbolMappings"
import * as InProcessBrokerHost from "../../src/testing/InProcessBrokerHost"
import { brokerMappings, brokerModules, fakeKrakenSettings } from "./brokerModules"
import { deployment, live } from "./deploymentsSupport"
import { ready, traderClient, traderLayer } from "./support"

export const BROKER = "kraken-broker"

export interface BrokerAccount {
  readonly key: string
  readonly secret: string
}

export type TraderClient = Effect.Effect.Success<ReturnType<typeof traderClient>>

export const fundedAccount = (
  fake: FakeKraken,
  balances: Readonly<Record<string, number>> = { ZUSD: 10_000 }
) => fake.exchange.addAccount({ key: `deploy-${randomUUID()}`, balances })

export const brokerTrader = (
  fake: FakeKraken,
  account: BrokerAccount,
  settings: Readonly<Record<string, unknown>> = {}
) =>
  traderLayer({
    modules: brokerModules,
    // No stored bars: the fake Kraken's prices are today's, the live bars the tests publish too.
    series: new Map(),
    liveBars: live.layer,
    mappings: SymbolMappings.table(brokerMappings),
    brokers: InProcessBrokerHost.layer({
      modules: {
        [BROKER]: {
          broker: krakenBroker,
          settings: { ...fakeKrakenSettings(fake.restUrl, account.key, account.secret), ...settings }
        }
      }
    })
  })

/**
 * Runs `test` on a Trader whose kraken-broker trades a fresh account of the fake Kraken (funded
 * with `balances`), once the Trader's schema is ready.
 */
export const onBrokerAccount = <A, E, R>(
  fake: FakeKraken,
  test: (api: TraderClient, account: BrokerAccount) => Effect.Effect<A, E, R>,
  balances?: Readonly<Record<string, number>>
) =>
  Effect.suspend(() => {
    const account = fundedAccount(fake, balances)
    return Effect.provide(
      Effect.gen(function* () {
        yield* ready
        return yield* test(yield* traderClient(), account)
      }),
      brokerTrader(fake, account)
    )
  })

export const brokerDeployment = (overrides: Partial<DeploymentRequest> = {}): DeploymentRequest =>
  deployment({
    strategy: "broker-buy",
    account: { type: "broker", broker: BROKER as DeploymentRequest["provider"], quote: "USD" },
    risk: { maxOrderNotional: 1_000_000, maxPositionNotional: 1_000_000, maxDailyLoss: 1_000_000 },
    ...overrides
  })

/**
 * Reads the deployment until `done` holds for what `read` gives; the broker's reports arrive on
 * their own time (the fake answers at once, the broker polls every 20 ms).
 */
export const eventually = <A, E, R>(read: Effect.Effect<A, E, R>, done: (a: A) => boolean, what: string) =>
  Effect.gen(function* () {
    let last: A | undefined
    return yield* read.pipe(
      Effect.tap((a) => {
        last = a
      }),
      Effect.filterOrFail(done, () => new Error("not yet")),
      Effect.retry(Schedule.spaced(Duration.millis(50))),
      Effect.timeoutFail({
        duration: Duration.seconds(20),
        onTimeout: () => new Error(`not within 20 s: ${what}; last read: ${JSON.stringify(last)}`)
      })
    )
  })

export const ordersOf = (id: DeploymentId) =>
  Effect.flatMap(traderClient(), (api) => api.deployments.orders({ path: { id }, urlParams: {} }))
export const fillsOf = (id: DeploymentId) =>
  Effect.flatMap(traderClient(), (api) => api.deployments.fills({ path: { id }, urlParams: {} }))
export const auditOf = (id: DeploymentId) =>
  Effect.flatMap(traderClient(), (api) => api.deployments.audit({ path: { id }, urlParams: {} }))
export const deploymentOf = (id: DeploymentId) =>
  Effect.flatMap(traderClient(), (api) => api.deployments.get({ path: { id } }))
