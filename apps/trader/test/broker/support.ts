/**
 * What the sandboxed BrokerHost tests share: one fake Kraken, kraken-broker bundled as the
 * Registry bundles it (@quasar/providers/node), the sandboxed host over a memory catalogue with an egress policy that opens
 * only the fake's port on loopback, a record of every log line, and a funded account per test.
 */
import { randomUUID } from "node:crypto"
import type { CatalogCode } from "@quasar/domain"
import { krakenBroker } from "@quasar/providers/kraken"
import { bundleBuiltins } from "@quasar/providers/node"
import { type FakeKraken, startFakeKraken } from "@quasar/providers/testing"
import { detectIsolation, makeEgress, SandboxNetwork } from "@quasar/sandbox/node"
import { Effect, Layer, Logger, ManagedRuntime, type Scope } from "effect"
import { afterAll, beforeAll } from "vitest"
import type { BrokerHost } from "../../src/broker/BrokerHost"
import * as SandboxedBrokerHost from "../../src/broker/SandboxedBrokerHost"
import { brokerCode, MemoryBrokerCatalog } from "../../src/testing/MemoryBrokerCatalog"

export interface LogLine {
  readonly message: string
  readonly annotations: Readonly<Record<string, unknown>>
}

const messageOf = (message: unknown): string =>
  Array.isArray(message) ? message.map(String).join(" ") : String(message)

/** A secret only the host's own environment holds: the children must never see it. */
export const HOST_SECRET = `host-secret-${randomUUID()}`

export const useSandboxedBrokers = (options: SandboxedBrokerHost.SandboxedBrokerHostOptions = {}) => {
  let fake: FakeKraken | undefined
  let runtime: ManagedRuntime.ManagedRuntime<BrokerHost | MemoryBrokerCatalog, unknown> | undefined
  let krakenSource = ""
  const logs: Array<LogLine> = []

  beforeAll(async () => {
    process.env.QUASAR_SECRET_KEY = HOST_SECRET
    const started = await startFakeKraken({ updateEveryMs: 60_000, heartbeatEveryMs: 60_000 })
    fake = started
    const sources = await Effect.runPromise(bundleBuiltins)
    krakenSource = sources.find((s) => s.name === "kraken-broker")?.source ?? ""
    const network = Layer.effect(
      SandboxNetwork,
      Effect.map(detectIsolation, (isolation) => ({
        isolation,
        egress: makeEgress({ allow: [{ host: "127.0.0.1", port: started.port }], reserved: [] })
      }))
    )
    const recorder = Logger.replace(
      Logger.defaultLogger,
      Logger.make(({ message, annotations }) => {
        logs.push({ message: messageOf(message), annotations: Object.fromEntries(annotations) })
      })
    )
    runtime = ManagedRuntime.make(
      SandboxedBrokerHost.layer(options).pipe(
        Layer.provideMerge(MemoryBrokerCatalog.layer),
        Layer.provide(network),
        Layer.provideMerge(recorder)
      )
    )
  }, 120_000)

  afterAll(async () => {
    await runtime?.dispose()
    await fake?.close()
  })

  const env = {
    logs,
    get fake(): FakeKraken {
      if (fake === undefined) throw new Error("the fake Kraken starts in beforeAll")
      return fake
    },
    /** Runs a scoped program on the sandboxed host. */
    run: <A, E>(effect: Effect.Effect<A, E, BrokerHost | MemoryBrokerCatalog | Scope.Scope>) => {
      if (runtime === undefined) throw new Error("the host starts in beforeAll")
      return runtime.runPromise(Effect.scoped(effect))
    },
    /** A fresh funded account, stored as kraken-broker's settings (`apiSecret` overridable). */
    account: (balances: Readonly<Record<string, number>> = { ZUSD: 100_000, XXBT: 1 }, apiSecret?: string) =>
      Effect.gen(function* () {
        const account = env.fake.exchange.addAccount({ key: `t-${randomUUID()}`, balances })
        const catalog = yield* MemoryBrokerCatalog
        yield* catalog.put(brokerCode(krakenBroker, krakenSource), {
          restUrl: env.fake.restUrl,
          apiKey: account.key,
          apiSecret: apiSecret ?? account.secret,
          pollIntervalMs: 50,
          requestTimeoutMs: 5_000
        })
        return account
      }),
    /** Stores `source` as the active code of broker `name`, with two URL settings. */
    putBroker: (
      name: string,
      source: string,
      urls: { readonly restUrl: string; readonly otherUrl: string }
    ) => Effect.flatMap(MemoryBrokerCatalog, (catalog) => catalog.put(hostileCode(name, source), urls))
  }
  return env
}

const hostileCode = (name: string, source: string): CatalogCode => ({
  name: name as CatalogCode["name"],
  version: 1,
  kind: "broker",
  status: "active",
  language: "javascript",
  manifest: {
    name: name as CatalogCode["name"],
    displayName: name,
    version: "1.0.0",
    kind: "broker",
    capabilities: [],
    timeframes: [],
    settings: [
      { key: "restUrl", type: "url", secret: false, required: true },
      { key: "otherUrl", type: "url", secret: false, required: true }
    ]
  },
  source
})
