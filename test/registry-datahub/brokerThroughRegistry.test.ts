/**
 * Trader's sandboxed BrokerHost opens the built-in kraken-broker as the Registry serves it on the
 * internal catalogue: the active version's code and the account's settings, the API secret sealed
 * at rest and opened by the Registry alone, and trades on the fake Kraken with them.
 */

import { HttpServer } from "@effect/platform"
import { expect, layer } from "@effect/vitest"
import { startFakeKraken } from "@quasar/providers/testing"
import { detectIsolation, makeEgress, SandboxNetwork } from "@quasar/sandbox/node"
import { ServiceConfig } from "@quasar/server"
import { TestService } from "@quasar/server/testing"
import { Effect, Layer, Schedule } from "effect"
import { layer as bundledBuiltins } from "../../apps/registry/src/node/bundleBuiltins"
import { BrokerHost } from "../../apps/trader/src/broker/BrokerHost"
import * as SandboxedBrokerHost from "../../apps/trader/src/broker/SandboxedBrokerHost"
import { registryBrokerCatalog } from "../../apps/trader/src/clients/RegistryCatalogReader"
import { client, registryWithDataHub } from "./support"

layer(registryWithDataHub(bundledBuiltins), { timeout: 120_000, excludeTestServices: true })(
  "kraken-broker through the Registry",
  (it) => {
    it.scoped("opens with the Registry's opened settings and trades on the fake Kraken", () =>
      Effect.gen(function* () {
        const fake = yield* Effect.acquireRelease(
          Effect.promise(() => startFakeKraken({ updateEveryMs: 60_000, heartbeatEveryMs: 60_000 })),
          (f) => Effect.promise(() => f.close())
        )
        const account = fake.exchange.addAccount({ key: "through-registry", balances: { ZUSD: 50_000 } })
        const api = yield* client()
        yield* api.code.list().pipe(
          Effect.filterOrFail((l) => l.some((s) => s.name === "kraken-broker" && s.activeVersion === 1)),
          Effect.retry(Schedule.spaced("500 millis").pipe(Schedule.upTo("90 seconds")))
        )
        const saved = yield* api.code.updateSettings({
          path: { name: "kraken-broker" as never },
          payload: { values: { restUrl: fake.restUrl, apiKey: account.key, apiSecret: account.secret } }
        })
        expect(saved.secretsSet).toEqual(expect.arrayContaining(["apiKey", "apiSecret"]))
        expect(JSON.stringify(saved)).not.toContain(account.secret)

        const { address } = yield* HttpServer.HttpServer
        const registryUrl = address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : ""
        const network = Layer.effect(
          SandboxNetwork,
          Effect.map(detectIsolation, (isolation) => ({
            isolation,
            egress: makeEgress({ allow: [{ host: "127.0.0.1", port: fake.port }], reserved: [] })
          }))
        )
        const host = SandboxedBrokerHost.layer().pipe(
          Layer.provide(registryBrokerCatalog),
          Layer.provide(network),
          Layer.provide(ServiceConfig.layer(TestService.testConfig({ registryUrl })))
        )
        const { version, placed, balances } = yield* Effect.gen(function* () {
          const handle = yield* (yield* BrokerHost).open("kraken-broker")
          const placed = yield* handle.placeOrder({
            clientOrderId: "through-registry-1",
            symbol: "XBT/USD",
            side: "buy",
            type: "market",
            quantity: 0.1
          })
          return { version: handle.version, placed, balances: yield* handle.balances }
        }).pipe(Effect.scoped, Effect.provide(host))
        expect(version).toBe(1)
        expect(placed).toMatchObject({ clientOrderId: "through-registry-1", status: "filled" })
        expect(balances.find((b) => b.asset === "BTC")?.total).toBeCloseTo(0.1, 8)
        expect(fake.exchange.account(account.key).orders).toHaveLength(1)

        const missing = yield* Effect.flip(
          Effect.scoped(Effect.flatMap(BrokerHost, (h) => h.open("kraken"))).pipe(Effect.provide(host))
        )
        expect(missing).toMatchObject({ _tag: "BrokerRejected", reason: "unknownBroker" })
      })
    )
  }
)
