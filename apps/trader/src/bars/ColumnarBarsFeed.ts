/**
 * `BarsFeed` over DataHub's `GET /bars/columns`: one request per series, answered as binary
 * float64 columns, decoded as the answer streams in (`makeBarColumnsDecoder`): each block goes
 * straight into the buffer its columns live in, which a backtest hands to its sandbox as it is. No
 * per-bar object on either side, and the answer is never held whole besides its blocks (a million
 * bars: 48 MB of columns, where reading the body first held the chunks, their join and a copy,
 * three times that, at once). The request is the one the derived client would send
 * (`barColumnsRequest`, built from `DataHubApi`'s endpoint); its body is read here as a stream,
 * which the derived client does not offer. A series DataHub does
 * not know has no bars; a query it refuses is the caller's InvalidRequest; anything else (DataHub
 * down, an answer cut short or not decodable) is ServiceUnavailable.
 */
import { FetchHttpClient, HttpClient, HttpClientResponse } from "@effect/platform"
import {
  barColumnsRequest,
  barCount,
  InvalidRequest,
  makeBarColumnsDecoder,
  ServiceUnavailable
} from "@quasar/domain"
import { ServiceConfig } from "@quasar/server"
import { DateTime, Effect, Either, Layer, Stream } from "effect"
import { BarsFeed, type BarsRange } from "./BarsFeed"

const describe = (range: BarsRange) =>
  `${range.provider} ${range.symbol} ${range.timeframe} bars from ${new Date(range.from).toISOString()} to ${new Date(range.to).toISOString()}`

const unavailable = (range: BarsRange, why: string) =>
  new ServiceUnavailable({
    message: `DataHub could not serve ${describe(range)} as columns (${why}); check that DataHub is running and runs the same version as Trader, and retry`
  })

const refusal = HttpClientResponse.schemaBodyJson(InvalidRequest)

export const layer = Layer.effect(
  BarsFeed,
  Effect.gen(function* () {
    const config = yield* ServiceConfig
    const client = yield* HttpClient.HttpClient

    const load = (range: BarsRange) =>
      Effect.gen(function* () {
        const request = yield* barColumnsRequest(config.datahubUrl, {
          provider: range.provider,
          symbol: range.symbol,
          timeframe: range.timeframe,
          from: DateTime.unsafeMake(range.from),
          to: DateTime.unsafeMake(range.to)
        }).pipe(Effect.orDie)
        const response = yield* client.execute(request)
        if (response.status === 404) return []
        if (response.status === 400) {
          const refused = yield* refusal(response).pipe(
            Effect.orElseSucceed(() => ({ message: "no reason given" }))
          )
          return yield* new InvalidRequest({
            message: `DataHub refused ${describe(range)}: ${refused.message}`
          })
        }
        if (response.status !== 200) return yield* unavailable(range, `status ${response.status}`)
        const decoder = makeBarColumnsDecoder()
        yield* Stream.runForEach(response.stream, (chunk) => Effect.sync(() => decoder.push(chunk)))
        const blocks = decoder.end()
        if (Either.isLeft(blocks)) return yield* unavailable(range, blocks.left)
        return blocks.right
      }).pipe(
        Effect.scoped,
        Effect.catchTag("RequestError", "ResponseError", (e) =>
          Effect.fail(unavailable(range, `${e._tag}: ${e.message}`))
        ),
        Effect.tap((blocks) => Effect.annotateCurrentSpan("bars", barCount(blocks))),
        Effect.withSpan("ColumnarBarsFeed.load", {
          attributes: { provider: range.provider, symbol: range.symbol, timeframe: range.timeframe }
        })
      )

    return BarsFeed.of({ load })
  })
).pipe(Layer.provide(FetchHttpClient.layer))
