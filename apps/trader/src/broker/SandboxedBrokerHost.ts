/**
 * The production BrokerHost: `open` reads the broker's active code and the account's opened
 * settings from the catalogue (BrokerCatalog), runs the code in a sandbox child of its own with
 * the egress policy (brokerChild.ts), and wraps its calls in the host's handle (timeouts, error
 * mapping, result checks, spans, `orderUpdates` restarts). The child lives as long as the scope.
 */
import { SandboxLimits, type SandboxLimitValues } from "@quasar/sandbox"
import {
  type QuotaOptions,
  SandboxAllowHosts,
  SandboxNetwork,
  SandboxQuota,
  type SandboxWorkspace
} from "@quasar/sandbox/node"
import { Effect, Layer } from "effect"
import { registryBrokerCatalog } from "../clients/RegistryCatalogReader"
import { BrokerCatalog } from "./BrokerCatalog"
import { BrokerHost } from "./BrokerHost"
import { type HandleOptions, makeBrokerHandle } from "./brokerHandle"
import { brokerWorkspace, startBrokerChild } from "./sandbox/brokerChild"

export interface SandboxedBrokerHostOptions
  extends Pick<HandleOptions, "callTimeout" | "updatesIdleTimeout" | "restart"> {
  readonly limits?: Partial<SandboxLimitValues>
  readonly quota?: QuotaOptions
}

/** A broker holds a few open orders and polls: a provider child's share is plenty. */
const BROKER_LIMITS: Partial<SandboxLimitValues> = { heapMb: 128, rssMb: 384 }

const make = (options: SandboxedBrokerHostOptions) =>
  Effect.gen(function* () {
    const catalog = yield* BrokerCatalog
    const context = yield* Effect.context<SandboxLimits | SandboxQuota | SandboxNetwork | SandboxWorkspace>()
    return BrokerHost.of({
      open: (name) =>
        Effect.gen(function* () {
          const opened = yield* catalog.open(name)
          const calls = yield* startBrokerChild(opened).pipe(Effect.provide(context))
          yield* Effect.logInfo("broker opened").pipe(
            Effect.annotateLogs({ broker: name, version: opened.version })
          )
          return makeBrokerHandle({
            broker: name,
            version: opened.version,
            calls,
            ...(options.callTimeout === undefined ? {} : { callTimeout: options.callTimeout }),
            ...(options.updatesIdleTimeout === undefined
              ? {}
              : { updatesIdleTimeout: options.updatesIdleTimeout }),
            ...(options.restart === undefined ? {} : { restart: options.restart })
          })
        }).pipe(Effect.withSpan("BrokerHost.open", { attributes: { broker: name } }))
    })
  })

/** Needs BrokerCatalog and SandboxNetwork (`SandboxNetwork.layer("Trader")` in the service). */
export const layer = (options: SandboxedBrokerHostOptions = {}) =>
  Layer.effect(BrokerHost, make(options)).pipe(
    Layer.provide(
      Layer.mergeAll(brokerWorkspace, SandboxQuota.layer(options.quota ?? {})).pipe(
        Layer.provideMerge(SandboxLimits.layer({ ...BROKER_LIMITS, ...options.limits }))
      )
    )
  )

/**
 * The host as the Trader service runs it: the Registry's catalogue with the service credential,
 * and the sandbox network with QUASAR_SANDBOX_ALLOW_HOSTS and Trader's own ports reserved (needs
 * ServiceConfig and DatabaseUrl).
 */
export const live = (options: SandboxedBrokerHostOptions = {}) =>
  layer(options).pipe(
    Layer.provide(registryBrokerCatalog),
    Layer.provide(SandboxNetwork.layer("Trader")),
    Layer.provide(SandboxAllowHosts.fromEnv)
  )
