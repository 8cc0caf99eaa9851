import type { Broker, BrokerDefinition } from "./broker"
import type { Provider, ProviderDefinition, SettingsSpec } from "./types"

/** Declares a provider; the module's default export must be the result. */
export const defineProvider = <const S extends SettingsSpec>(
  definition: ProviderDefinition<S>
): Provider<S> => ({
  ...definition,
  kind: "provider",
  sdkVersion: 1
})

/** Declares a broker; the module's default export must be the result. */
export const defineBroker = <const S extends SettingsSpec>(definition: BrokerDefinition<S>): Broker<S> => ({
  ...definition,
  kind: "broker",
  sdkVersion: 1
})
