/**
 * A `BrokerHost` that runs the given broker modules in this process, for tests: no sandbox, no
 * Registry. Each `open` builds the module's context from the settings given here (checked and
 * defaulted like stored ones) and wraps its calls exactly as the production host does (timeouts,
 * error mapping, result checks, spans, `orderUpdates` restarts). The broker's own `rateLimit` is
 * left out unless `rateLimit` is given, so a test is not paced by a venue's real limits.
 *
 *   InProcessBrokerHost.layer({
 *     modules: { "kraken-broker": { broker: krakenBroker, settings: { restUrl: fake.restUrl, apiKey, apiSecret } } }
 *   })
 */

import {
  makeProviderContext,
  makeTokenBucketRegistry,
  providerLogger,
  type RateLimit,
  type RawSettings
} from "@quasar/providers/host"
import { connectWebSocket } from "@quasar/providers/host/node"
import type { Broker, SettingsSpec } from "@quasar/providers/sdk"
import { Effect, Either, Layer } from "effect"
import { inProcessCalls } from "../broker/BrokerCalls"
import { BrokerHost, BrokerRejected } from "../broker/BrokerHost"
import { type HandleOptions, makeBrokerHandle } from "../broker/brokerHandle"

export interface InProcessBroker {
  readonly broker: Broker<SettingsSpec>
  readonly settings: RawSettings
  /** The version `open` reports (default 1). */
  readonly version?: number
  /** The broker's clock (`ctx.now`); share it with a fake server's. */
  readonly now?: () => number
  readonly rateLimit?: RateLimit
}

export interface InProcessOptions
  extends Pick<HandleOptions, "callTimeout" | "updatesIdleTimeout" | "restart"> {
  readonly modules: Readonly<Record<string, InProcessBroker>>
}

export const layer = (options: InProcessOptions): Layer.Layer<BrokerHost> =>
  Layer.sync(BrokerHost, () => {
    const buckets = makeTokenBucketRegistry()
    return {
      open: (name) =>
        Effect.gen(function* () {
          const module = options.modules[name]
          if (module === undefined)
            return yield* new BrokerRejected({
              broker: name,
              reason: "unknownBroker",
              message: `no broker named ${name} is active; upload and activate it first`
            })
          const logger = yield* providerLogger(name)
          const controller = new AbortController()
          yield* Effect.addFinalizer(() => Effect.sync(() => controller.abort()))
          const ctx = makeProviderContext<SettingsSpec>({
            provider: { name, settings: module.broker.settings, rateLimit: module.rateLimit },
            settings: module.settings,
            connect: connectWebSocket,
            logger,
            signal: controller.signal,
            buckets,
            ...(module.now === undefined ? {} : { now: module.now })
          })
          if (Either.isLeft(ctx))
            return yield* new BrokerRejected({
              broker: name,
              reason: "invalidSettings",
              message: `${ctx.left.message}; fix the broker's settings`
            })
          return makeBrokerHandle({
            broker: name,
            version: module.version ?? 1,
            calls: inProcessCalls(module.broker, ctx.right),
            ...(options.callTimeout === undefined ? {} : { callTimeout: options.callTimeout }),
            ...(options.updatesIdleTimeout === undefined
              ? {}
              : { updatesIdleTimeout: options.updatesIdleTimeout }),
            ...(options.restart === undefined ? {} : { restart: options.restart })
          })
        })
    }
  })
