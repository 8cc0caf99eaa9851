/**
 * A universe's common symbols (`BTC/USD`) as one provider names them (`XBT/USD`), from the
 * Registry's mappings. Without a mapping the common symbol is taken as the provider's own: many
 * providers (the synthetic one, most equity feeds) use the common form.
 */
import { MarketSymbol, type ProviderName, ServiceUnavailable } from "@quasar/domain"
import { Context, Effect, Layer, Schema } from "effect"
import { RegistryClient } from "../clients/RegistryClient"

export class SymbolMappings extends Context.Tag("@quasar/trader/SymbolMappings")<
  SymbolMappings,
  {
    readonly providerSymbol: (
      provider: ProviderName,
      commonSymbol: string
    ) => Effect.Effect<string, ServiceUnavailable>
  }
>() {
  /** Every common symbol is the provider's own (tests, and providers without mappings). */
  static readonly identity = Layer.succeed(SymbolMappings, {
    providerSymbol: (_provider, commonSymbol) => Effect.succeed(commonSymbol)
  })

  static readonly registry = Layer.effect(
    SymbolMappings,
    Effect.map(RegistryClient, (client) => ({
      providerSymbol: (provider: ProviderName, commonSymbol: string) =>
        Schema.is(MarketSymbol)(commonSymbol)
          ? client.mappings.list({ urlParams: { commonSymbol, source: provider } }).pipe(
              Effect.map((mappings) => mappings[0]?.symbol ?? commonSymbol),
              Effect.catchAll(
                (e) =>
                  new ServiceUnavailable({
                    message: `the Registry could not map ${commonSymbol} to a ${provider} symbol (${e._tag}: ${e.message}); check that the Registry is running and retry`
                  })
              )
            )
          : Effect.succeed(commonSymbol)
    }))
  )
}
