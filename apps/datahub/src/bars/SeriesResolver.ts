/**
 * Which stored series a bars query names: provider and symbol, or a common symbol resolved
 * through the Registry's mappings (RegistryCatalog); and whether a series is known at all (to
 * DataHub's subscriptions and bars, or to the Registry's code and assets), so that an empty
 * answer for a known series is told apart from a misspelt name (404).
 */
import { type BarsQuery, InvalidRequest, NotFound } from "@quasar/domain"
import { Context, Effect, Layer, Option } from "effect"
import { RegistryCatalog } from "../catalog/RegistryCatalog"
import { BarsRepo, type Series } from "../store/BarsRepo"

type Query = typeof BarsQuery.Type

const invalid = (field: string, message: string) => new InvalidRequest({ field, message })

const make = Effect.gen(function* () {
  const repo = yield* BarsRepo
  const catalog = yield* RegistryCatalog

  const resolve = (q: Query) =>
    Effect.gen(function* () {
      const timeframe = q.timeframe
      if (q.symbol !== undefined && q.commonSymbol !== undefined)
        return yield* invalid("commonSymbol", "give either symbol (with provider) or commonSymbol, not both")
      if (q.symbol !== undefined) {
        if (q.provider === undefined)
          return yield* invalid(
            "provider",
            "symbol needs provider: a symbol is the provider's own (e.g. provider=kraken&symbol=XBT/USD); use commonSymbol for a mapped one"
          )
        return { provider: q.provider, symbol: q.symbol, timeframe } satisfies Series
      }
      if (q.commonSymbol === undefined)
        return yield* invalid(
          "symbol",
          "name the series: provider and symbol, or commonSymbol (and optionally provider)"
        )
      const mapped = yield* catalog.mapped(q.commonSymbol, q.provider)
      const [only] = mapped
      if (only === undefined)
        return yield* new NotFound({
          message: `no provider symbol is mapped to common symbol ${q.commonSymbol}${q.provider ? ` at ${q.provider}` : ""}: map one to it in the Registry's mappings, or name the series by provider and symbol`
        })
      if (mapped.length > 1)
        return yield* invalid(
          "provider",
          `common symbol ${q.commonSymbol} is mapped at several providers (${mapped.map((m) => m.provider).join(", ")}): add provider= to pick one`
        )
      return { provider: only.provider, symbol: only.symbol, timeframe } satisfies Series
    })

  /** What DataHub's own tables say, completed by the Registry's code and assets only when they know nothing. */
  const known = (series: Series) =>
    Effect.gen(function* () {
      const own = yield* repo.known(series.provider, series.symbol)
      const provider = own.provider || (yield* catalog.isKnownProvider(series.provider))
      const symbol = own.symbol || Option.isSome(yield* catalog.assetClass(series.provider, series.symbol))
      return { provider, symbol }
    })

  /** Succeeds for a series DataHub knows (code, assets, subscription or bars), else a 404 saying which name is unknown. */
  const ensureKnown = (series: Series) =>
    Effect.flatMap(known(series), (known) =>
      !known.provider
        ? new NotFound({
            message: `unknown provider ${series.provider}: no provider code, assets or bars go by that name; check it against the Registry's providers`
          })
        : !known.symbol
          ? new NotFound({
              message: `unknown symbol ${series.symbol} at ${series.provider}: it is not in the provider's assets and no bars are stored for it; check the spelling or refresh the provider's assets`
            })
          : Effect.void
    )

  return { resolve, ensureKnown } as const
})

export class SeriesResolver extends Context.Tag("@quasar/datahub/SeriesResolver")<
  SeriesResolver,
  Effect.Effect.Success<typeof make>
>() {
  static readonly layer = Layer.effect(SeriesResolver, make)
}
