/**
 * `BarsFeed` over DataHub's `GET /bars/columns`: one request per series, answered as binary
 * float64 columns. A backtest takes the answer's bytes as they arrive (`stream`) and hands them
 * to its sandbox as they are, following their framing only to know the answer was whole; a
 * deployment's warm-up decodes them (`load`, `makeBarColumnsDecoder`): each block goes straight
 * into the buffer its columns live in, with no per-bar object on either side. `first` asks the
 * JSON bars query for one bar: whether a range holds bars, and from when. The columns request is
 * the one the derived client would send (`barColumnsRequest`, built from `DataHubApi`'s
 * endpoint); its body is read here as a stream, which the derived client does not offer. A
 * series DataHub does not know has no bars; a query it refuses is the caller's InvalidRequest; anything else (DataHub
 * down, an answer cut short or not decodable) is ServiceUnavailable.
 */
import { FetchHttpClient, HttpClient, HttpClientResponse } from "@effect/platform"
import {
  barColumnsRequest,
  barCount,
  encodeBarColumnBlocks,
  InvalidRequest,
  makeBarColumnsDecoder,
  ServiceUnavailable
} from "@quasar/domain"
import { ServiceConfig } from "@quasar/server"
import { DateTime, Effect, Either, Layer, Option, Stream } from "effect"
import { DataHubClient } from "../clients/DataHubClient"
import { BarsFeed, type BarsRange, readBlocks } from "./BarsFeed"

const describe = (range: BarsRange) =>
  `${range.provider} ${range.symbol} ${range.timeframe} bars from ${new Date(range.from).toISOString()} to ${new Date(range.to).toISOString()}`

const unavailable = (range: BarsRange, why: string) =>
  new ServiceUnavailable({
    message: `DataHub could not serve ${describe(range)} as columns (${why}); check that DataHub is running and runs the same version as Trader, and retry`
  })

const refusal = HttpClientResponse.schemaBodyJson(InvalidRequest)

/** The feed over the given HttpClient: main.ts gives Node's, which streams a body with less work than fetch. */
export const layerWithClient = Layer.effect(
  BarsFeed,
  Effect.gen(function* () {
    const config = yield* ServiceConfig
    const client = yield* HttpClient.HttpClient
    const datahub = yield* DataHubClient

    const stream = (range: BarsRange): Stream.Stream<Uint8Array, InvalidRequest | ServiceUnavailable> =>
      Stream.unwrapScoped(
        Effect.gen(function* () {
          const request = yield* barColumnsRequest(config.datahubUrl, {
            provider: range.provider,
            symbol: range.symbol,
            timeframe: range.timeframe,
            from: DateTime.unsafeMake(range.from),
            to: DateTime.unsafeMake(range.to)
          }).pipe(Effect.orDie)
          const response = yield* client.execute(request)
          if (response.status === 404) return Stream.make(encodeBarColumnBlocks([]))
          if (response.status === 400) {
            const refused = yield* refusal(response).pipe(
              Effect.orElseSucceed(() => ({ message: "no reason given" }))
            )
            return yield* new InvalidRequest({
              message: `DataHub refused ${describe(range)}: ${refused.message}`
            })
          }
          if (response.status !== 200) return yield* unavailable(range, `status ${response.status}`)
          // The bytes go on as they are; their framing is followed, so an answer cut short fails.
          const framing = makeBarColumnsDecoder({ keep: false })
          return response.stream.pipe(
            Stream.tap((chunk) => Effect.sync(() => framing.push(chunk))),
            Stream.concat(
              Stream.suspend(() =>
                Either.match(framing.end(), {
                  onLeft: (problem) => Stream.fail(unavailable(range, problem)),
                  onRight: () => Stream.empty
                })
              )
            )
          )
        })
      ).pipe(
        Stream.catchTags({
          RequestError: (e) => Stream.fail(unavailable(range, `${e._tag}: ${e.message}`)),
          ResponseError: (e) => Stream.fail(unavailable(range, `${e._tag}: ${e.message}`))
        })
      )

    const load = (range: BarsRange) =>
      readBlocks(stream(range)).pipe(
        Effect.flatMap(
          Either.match({
            onLeft: (problem) => Effect.fail(unavailable(range, problem)),
            onRight: Effect.succeed
          })
        ),
        Effect.tap((blocks) => Effect.annotateCurrentSpan("bars", barCount(blocks))),
        Effect.withSpan("ColumnarBarsFeed.load", {
          attributes: { provider: range.provider, symbol: range.symbol, timeframe: range.timeframe }
        })
      )

    const first = (range: BarsRange) =>
      datahub.bars
        .query({
          urlParams: {
            provider: range.provider,
            symbol: range.symbol,
            timeframe: range.timeframe,
            from: DateTime.unsafeMake(range.from),
            to: DateTime.unsafeMake(range.to),
            limit: 1
          }
        })
        .pipe(
          Effect.map((page) =>
            typeof page === "string"
              ? Option.none()
              : Option.map(Option.fromNullable(page.bars[0]), (bar) => Date.parse(bar.ts))
          ),
          Effect.catchAll(
            (e): Effect.Effect<Option.Option<number>, InvalidRequest | ServiceUnavailable> =>
              e._tag === "NotFound"
                ? Effect.succeed(Option.none<number>())
                : e._tag === "InvalidRequest"
                  ? Effect.fail(
                      new InvalidRequest({ message: `DataHub refused ${describe(range)}: ${e.message}` })
                    )
                  : Effect.fail(unavailable(range, `${e._tag}: ${e.message}`))
          ),
          Effect.withSpan("ColumnarBarsFeed.first", {
            attributes: { provider: range.provider, symbol: range.symbol, timeframe: range.timeframe }
          })
        )

    return BarsFeed.of({ load, stream, first })
  })
)

/** The feed over the web-standard fetch. */
export const layer = layerWithClient.pipe(Layer.provide(FetchHttpClient.layer))
