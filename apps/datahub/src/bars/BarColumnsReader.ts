/**
 * What `GET /bars/columns` does: every stored bar of one series over [from, to) as binary columns,
 * read page after page (`BarColumnsRepo`) while the answer is sent, so memory stays at a page
 * whatever the range. The first page is read before the answer starts: a bad range or an unknown
 * series is still a 400 or 404, and a known series without bars in the range is an answer of no
 * bars. A read that fails later ends the answer without its end block, which the decoder reports
 * as cut short.
 */
import { HttpServerResponse } from "@effect/platform"
import {
  BAR_COLUMNS_CONTENT_TYPE,
  type BarColumnsQuery,
  barColumnsEnd,
  barColumnsHeader,
  InvalidRequest
} from "@quasar/domain"
import { orDieOnSql } from "@quasar/server"
import { Context, DateTime, Effect, Layer, Option, Stream } from "effect"
import { BarColumnsRepo, COLUMN_PAGE_BARS, type ColumnBlock } from "../store/BarColumnsRepo"
import { BarsRepo, type Series } from "../store/BarsRepo"
import { SeriesResolver } from "./SeriesResolver"

type Query = typeof BarColumnsQuery.Type

const make = Effect.gen(function* () {
  const repo = yield* BarColumnsRepo
  const resolver = yield* SeriesResolver

  const columns = (q: Query) =>
    Effect.gen(function* () {
      if (q.from && q.to && DateTime.greaterThan(q.from, q.to))
        return yield* new InvalidRequest({
          field: "from",
          message: "from is after to: give a range with from <= to (to is exclusive)"
        })
      const series: Series = { provider: q.provider, symbol: q.symbol, timeframe: q.timeframe }
      const range = {
        from: q.from && DateTime.toEpochMillis(q.from),
        to: q.to && DateTime.toEpochMillis(q.to)
      }
      const first = yield* repo.page(series, range, undefined)
      if (first === undefined) yield* resolver.ensureKnown(series)
      /** The block after `block`, unless `block` was the range's last (a short page). */
      const next = (block: ColumnBlock | undefined) =>
        block === undefined || block.n < COLUMN_PAGE_BARS
          ? Effect.succeed(Option.none())
          : Effect.map(repo.page(series, range, block.lastMs), (b) => Option.some([b, b] as const))
      const blocks = Stream.unfoldEffect(first, next).pipe(
        Stream.filterMap((b) => Option.map(Option.fromNullable(b), (block) => block.bytes)),
        Stream.orDie
      )
      const body = Stream.make(barColumnsHeader()).pipe(
        Stream.concat(first === undefined ? Stream.empty : Stream.make(first.bytes)),
        Stream.concat(blocks),
        Stream.concat(Stream.make(barColumnsEnd()))
      )
      return HttpServerResponse.stream(body, { contentType: BAR_COLUMNS_CONTENT_TYPE })
    }).pipe(
      orDieOnSql,
      Effect.withSpan("BarColumnsReader.columns", { attributes: { provider: q.provider, symbol: q.symbol } })
    )

  return { columns } as const
})

export class BarColumnsReader extends Context.Tag("@quasar/datahub/BarColumnsReader")<
  BarColumnsReader,
  Effect.Effect.Success<typeof make>
>() {
  static readonly layer = Layer.effect(BarColumnsReader, make).pipe(
    Layer.provide(Layer.merge(SeriesResolver.layer.pipe(Layer.provide(BarsRepo.layer)), BarColumnsRepo.layer))
  )
}
