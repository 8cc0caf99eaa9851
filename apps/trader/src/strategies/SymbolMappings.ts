/**
 * A universe's common symbols (`BTC/USD`) as one provider names them (`XBT/USD`), from the
 * Registry's mappings. Without a mapping the common symbol is taken as the provider's own: many
 * providers (the synthetic one, most equity feeds) use the common form. A broker is stricter: it
 * trades a common symbol only under a mapping for it (source = the broker's name), since an order
 * under a guessed symbol would trade something else or nothing.
 */
import { MarketSymbol, type ProviderName, ServiceUnavailable } from "@quasar/domain"
import { Context, Effect, Layer, Option, Schema } from "effect"
import { RegistryClient } from "../clients/RegistryClient"

export class SymbolMappings extends Context.Tag("@quasar/trader/SymbolMappings")<
  SymbolMappings,
  {
    readonly providerSymbol: (
      provider: ProviderName,
      commonSymbol: string
    ) => Effect.Effect<string, ServiceUnavailable>
    /** The broker's own symbol for a common one; none when the Registry has no mapping for it. */
    readonly brokerSymbol: (
      broker: ProviderName,
      commonSymbol: string
    ) => Effect.Effect<Option.Option<string>, ServiceUnavailable>
  }
>() {
  /** Every common symbol is the provider's and the broker's own (tests, and providers without mappings). */
  static readonly identity = Layer.succeed(SymbolMappings, {
    providerSymbol: (_provider, commonSymbol) => Effect.succeed(commonSymbol),
    brokerSymbol: (_broker, commonSymbol) => Effect.succeed(Option.some(commonSymbol))
  })

  /** Mappings from a table by source, then common symbol (tests); providers fall back to the common symbol. */
  static readonly table = (mappings: Readonly<Record<string, Readonly<Record<string, string>>>>) =>
    Layer.succeed(SymbolMappings, {
      providerSymbol: (provider, commonSymbol) =>
        Effect.succeed(mappings[provider]?.[commonSymbol] ?? commonSymbol),
      brokerSymbol: (broker, commonSymbol) =>
        Effect.succeed(Option.fromNullable(mappings[broker]?.[commonSymbol]))
    })

  static readonly registry = Layer.effect(
    SymbolMappings,
    Effect.map(RegistryClient, (client) => {
      const lookup = (source: ProviderName, commonSymbol: string) =>
        client.mappings.list({ urlParams: { commonSymbol, source } }).pipe(
          Effect.map((mappings) => Option.fromNullable(mappings[0]?.symbol)),
          Effect.catchAll(
            (e) =>
              new ServiceUnavailable({
                message: `the Registry could not map ${commonSymbol} to a ${source} symbol (${e._tag}: ${e.message}); check that the Registry is running and retry`
              })
          )
        )
      return {
        providerSymbol: (provider: ProviderName, commonSymbol: string) =>
          Schema.is(MarketSymbol)(commonSymbol)
            ? Effect.map(
                lookup(provider, commonSymbol),
                Option.getOrElse(() => commonSymbol)
              )
            : Effect.succeed(commonSymbol),
        brokerSymbol: (broker: ProviderName, commonSymbol: string) =>
          Schema.is(MarketSymbol)(commonSymbol) ? lookup(broker, commonSymbol) : Effect.succeed(Option.none())
      }
    })
  )
}
