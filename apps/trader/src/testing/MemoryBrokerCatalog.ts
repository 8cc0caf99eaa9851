/**
 * A BrokerCatalog in memory, for tests of the sandboxed host: `put` stores a broker's code (as the
 * Registry would serve it: active, with its manifest) and the account's settings as opened.
 *
 *   const catalog = yield* MemoryBrokerCatalog
 *   yield* catalog.put(brokerCode(krakenBroker, source), { restUrl, apiKey, apiSecret })
 */
import type { CatalogCode, OpenedSettings, ProviderName } from "@quasar/domain"
import type { Broker, SettingsSpec } from "@quasar/providers/sdk"
import { Context, Effect, Layer, Option, Ref } from "effect"
import { BrokerCatalog, openFrom } from "../broker/BrokerCatalog"

type Values = OpenedSettings["values"]

/** Active version `version` of `broker`'s bundled `source`, with the manifest its settings make. */
export const brokerCode = (broker: Broker<SettingsSpec>, source: string, version = 1): CatalogCode => ({
  name: broker.name as ProviderName,
  version,
  kind: "broker",
  status: "active",
  language: "javascript",
  manifest: {
    name: broker.name as ProviderName,
    displayName: broker.displayName,
    version: broker.version,
    kind: "broker",
    capabilities: [],
    timeframes: [],
    settings: Object.entries(broker.settings).map(([key, spec]) => ({
      key,
      ...spec,
      secret: spec.secret ?? false,
      required: spec.required ?? false
    }))
  },
  source
})

interface Entry {
  readonly code: CatalogCode
  readonly settings: OpenedSettings
}

export class MemoryBrokerCatalog extends Context.Tag("@quasar/trader/testing/MemoryBrokerCatalog")<
  MemoryBrokerCatalog,
  {
    readonly put: (
      code: CatalogCode,
      values: Values,
      unopened?: OpenedSettings["unopened"]
    ) => Effect.Effect<void>
  }
>() {
  static readonly layer: Layer.Layer<MemoryBrokerCatalog | BrokerCatalog> = Layer.unwrapEffect(
    Effect.map(Ref.make(new Map<string, Entry>()), (entries) => {
      const open = openFrom({
        current: (name) => Effect.map(Ref.get(entries), (m) => Option.fromNullable(m.get(name)?.code)),
        settings: (name) =>
          Effect.map(
            Ref.get(entries),
            (m) => m.get(name)?.settings ?? { name: name as ProviderName, values: {}, unopened: [] }
          )
      })
      return Layer.merge(
        Layer.succeed(MemoryBrokerCatalog, {
          put: (code, values, unopened = []) =>
            Ref.update(entries, (m) =>
              new Map(m).set(code.name, { code, settings: { name: code.name, values, unopened } })
            )
        }),
        Layer.succeed(BrokerCatalog, { open })
      )
    })
  )
}
