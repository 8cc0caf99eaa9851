import type { VenueKind } from "@quasar/domain"

/**
 * The providers that ship with Quasar. They are registered on first start through the same
 * upload-and-validate path that uploaded code takes: each entry module is bundled into one ES module
 * that imports only the SDK.
 */
export interface BuiltinProvider {
  readonly name: string
  /** The module whose default export is the provider. */
  readonly entry: URL
}

export const builtinProviders: ReadonlyArray<BuiltinProvider> = [
  { name: "synthetic", entry: new URL("./synthetic/provider.ts", import.meta.url) },
  { name: "kraken", entry: new URL("./kraken/provider.ts", import.meta.url) },
  { name: "eodhd", entry: new URL("./eodhd/provider.ts", import.meta.url) }
]

/** The brokers that ship with Quasar, bundled the same way (their registration comes with the Trader). */
export const builtinBrokers: ReadonlyArray<BuiltinProvider> = [
  { name: "kraken-broker", entry: new URL("./kraken/broker.ts", import.meta.url) }
]

/** A built-in as it is uploaded: its entry bundled into one ES module. */
export interface BuiltinSource {
  readonly name: string
  /** A market-data provider or a broker: the code kind it is uploaded as. */
  readonly kind: VenueKind
  /** One ES module whose only import is the provider SDK. */
  readonly source: string
}

/** Where the SDK lives, so bundlers can keep it as the one external import. */
export const sdkDirectory = new URL("./sdk/", import.meta.url)

/** The import specifier provider modules use for the SDK. */
export const SDK_SPECIFIER = "@quasar/providers/sdk"
