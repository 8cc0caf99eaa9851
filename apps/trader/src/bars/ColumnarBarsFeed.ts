/**
 * `BarsFeed` over DataHub's `GET /bars/columns`: one request per series, answered as binary
 * float64 columns that the derived client decodes straight into the Float64Arrays a backtest runs
 * on, with no per-bar object on either side (a million bars: 48 MB of columns, against ~150 MB of
 * JSON pages parsed into a million objects). A series DataHub does not know has no bars; a query it
 * refuses is the caller's InvalidRequest; anything else (DataHub down, an answer cut short or not
 * decodable) is ServiceUnavailable.
 */
import { emptyBarColumns, InvalidRequest, ServiceUnavailable } from "@quasar/domain"
import { DateTime, Effect, Layer } from "effect"
import { DataHubClient } from "../clients/DataHubClient"
import { BarsFeed, type BarsRange } from "./BarsFeed"

const describe = (range: BarsRange) =>
  `${range.provider} ${range.symbol} ${range.timeframe} bars from ${new Date(range.from).toISOString()} to ${new Date(range.to).toISOString()}`

export const layer = Layer.effect(
  BarsFeed,
  Effect.map(DataHubClient, (client) =>
    BarsFeed.of({
      load: (range) =>
        client.bars
          .columns({
            urlParams: {
              provider: range.provider,
              symbol: range.symbol,
              timeframe: range.timeframe,
              from: DateTime.unsafeMake(range.from),
              to: DateTime.unsafeMake(range.to)
            }
          })
          .pipe(
            Effect.tap((columns) => Effect.annotateCurrentSpan("bars", columns.ts.length)),
            Effect.catchTags({
              NotFound: () => Effect.succeed(emptyBarColumns()),
              InvalidRequest: (e) =>
                Effect.fail(
                  new InvalidRequest({ message: `DataHub refused ${describe(range)}: ${e.message}` })
                )
            }),
            Effect.catchIf(
              (e): e is Exclude<typeof e, InvalidRequest> => !(e instanceof InvalidRequest),
              (e) =>
                Effect.fail(
                  new ServiceUnavailable({
                    message: `DataHub could not serve ${describe(range)} as columns (${e._tag}: ${e.message}); check that DataHub is running and runs the same version as Trader, and retry`
                  })
                )
            ),
            Effect.withSpan("ColumnarBarsFeed.load", {
              attributes: { provider: range.provider, symbol: range.symbol, timeframe: range.timeframe }
            })
          )
    })
  )
)
