/**
 * `BarsFeed` over DataHub's JSON bars query, page by page (100,000 bars a page). A series DataHub
 * does not know has no bars; a query it refuses is the caller's InvalidRequest; anything else
 * (DataHub down, an answer that does not decode) is ServiceUnavailable.
 */
import { InvalidRequest, MAX_BARS, ServiceUnavailable } from "@quasar/domain"
import { DateTime, Effect, Layer } from "effect"
import { DataHubClient } from "../clients/DataHubClient"
import type { BarColumns } from "../engine/types"
import { BarsFeed, type BarsRange } from "./BarsFeed"

const EMPTY: BarColumns = {
  ts: new Float64Array(0),
  open: new Float64Array(0),
  high: new Float64Array(0),
  low: new Float64Array(0),
  close: new Float64Array(0),
  volume: new Float64Array(0)
}

const describe = (range: BarsRange) =>
  `${range.provider} ${range.symbol} ${range.timeframe} bars from ${new Date(range.from).toISOString()} to ${new Date(range.to).toISOString()}`

export const layer = Layer.effect(
  BarsFeed,
  Effect.map(DataHubClient, (client) => ({
    load: (range: BarsRange) =>
      Effect.gen(function* () {
        const ts: Array<number> = []
        const open: Array<number> = []
        const high: Array<number> = []
        const low: Array<number> = []
        const close: Array<number> = []
        const volume: Array<number> = []
        let cursor: string | undefined
        for (;;) {
          const page = yield* client.bars.query({
            urlParams: {
              provider: range.provider,
              symbol: range.symbol,
              timeframe: range.timeframe,
              from: DateTime.unsafeMake(range.from),
              to: DateTime.unsafeMake(range.to),
              limit: MAX_BARS,
              ...(cursor === undefined ? {} : { cursor })
            }
          })
          if (typeof page === "string")
            return yield* new ServiceUnavailable({
              message: `DataHub answered CSV to a JSON bars query for ${describe(range)}; check that Trader and DataHub run the same version`
            })
          for (const bar of page.bars) {
            ts.push(Date.parse(bar.ts))
            open.push(bar.open)
            high.push(bar.high)
            low.push(bar.low)
            close.push(bar.close)
            volume.push(bar.volume)
          }
          if (page.nextCursor === null) break
          cursor = page.nextCursor
        }
        return {
          ts: Float64Array.from(ts),
          open: Float64Array.from(open),
          high: Float64Array.from(high),
          low: Float64Array.from(low),
          close: Float64Array.from(close),
          volume: Float64Array.from(volume)
        } satisfies BarColumns
      }).pipe(
        Effect.catchTags({
          NotFound: () => Effect.succeed(EMPTY),
          InvalidRequest: (e) =>
            Effect.fail(new InvalidRequest({ message: `DataHub refused ${describe(range)}: ${e.message}` }))
        }),
        Effect.catchIf(
          (e): e is Exclude<typeof e, InvalidRequest | ServiceUnavailable> =>
            !(e instanceof InvalidRequest) && !(e instanceof ServiceUnavailable),
          (e) =>
            Effect.fail(
              new ServiceUnavailable({
                message: `DataHub could not serve ${describe(range)} (${e._tag}: ${e.message}); check that DataHub is running and retry`
              })
            )
        ),
        Effect.withSpan("BarsFeed.load", { attributes: { provider: range.provider, symbol: range.symbol } })
      )
  }))
)
