/**
 * What `GET /bars/columns` does: every stored bar of one series over [from, to) as binary columns,
 * read in pages (`BarColumnsRepo`) while the answer is sent, so memory stays at a few pages
 * whatever the range. The first page is read before the answer starts: a bad range or an unknown
 * series is still a 400 or 404, and a known series without bars in the range is an answer of no
 * bars. The rest of the range is cut into time slices of a page's worth of bars, read two at a
 * time on two connections and sent in order: packing a page keeps one PostgreSQL backend busy, so
 * two of them read a million bars about twice as fast. A slice holding more than a page (bars
 * closer than their timeframe) is read in keyset pages. A read that fails later ends the answer
 * without its end block, which the decoder reports as cut short.
 */
import { HttpServerResponse } from "@effect/platform"
import {
  BAR_COLUMNS_CONTENT_TYPE,
  type BarColumnsQuery,
  barColumnsEnd,
  barColumnsHeader,
  InvalidRequest,
  Timeframe
} from "@quasar/domain"
import { orDieOnSql } from "@quasar/server"
import { Context, DateTime, Effect, Layer, Option, Stream } from "effect"
import { BarColumnsRepo, COLUMN_PAGE_BARS, type ColumnBlock } from "../store/BarColumnsRepo"
import { BarsRepo, type Series } from "../store/BarsRepo"
import { SeriesResolver } from "./SeriesResolver"

type Query = typeof BarColumnsQuery.Type

const CONCURRENT_SLICES = 2

interface Slice {
  readonly from: number
  readonly to: number
}

/**
 * Time slices covering (after, last], each as long as a page of bars at the timeframe, the last
 * one ending just past `last` (and never past the range's end).
 */
function* slices(
  after: number,
  last: number,
  timeframeMs: number,
  to: DateTime.Utc | undefined
): Iterable<Slice> {
  const width = COLUMN_PAGE_BARS * timeframeMs
  const end = Math.min(last + 1, to === undefined ? Number.POSITIVE_INFINITY : DateTime.toEpochMillis(to))
  for (let from = after; from < end; from += width) yield { from, to: Math.min(from + width, end) }
}

const make = Effect.gen(function* () {
  const repo = yield* BarColumnsRepo
  const resolver = yield* SeriesResolver

  /** Every bar of `slice` after `after`, as one block or, when it holds more than a page, several. */
  const readSlice = (series: Series, slice: Slice, after: number) =>
    Effect.gen(function* () {
      const blocks: Array<ColumnBlock> = []
      let from = after
      for (;;) {
        const block = yield* repo.page(series, slice, from)
        if (block === undefined) break
        blocks.push(block)
        if (block.n < COLUMN_PAGE_BARS) break
        from = block.lastMs
      }
      return blocks
    })

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
      const rest =
        first === undefined || first.n < COLUMN_PAGE_BARS
          ? Stream.empty
          : Stream.unwrap(
              Effect.map(repo.lastMs(series, range), (last) =>
                Option.match(last, {
                  onNone: () => Stream.empty,
                  onSome: (lastMs) =>
                    Stream.fromIterable(
                      slices(first.lastMs, lastMs, Timeframe.durationMs(series.timeframe), q.to)
                    ).pipe(
                      Stream.mapEffect((slice) => readSlice(series, slice, first.lastMs), {
                        concurrency: CONCURRENT_SLICES
                      }),
                      Stream.flattenIterables
                    )
                })
              )
            )
      const blocks = rest.pipe(
        Stream.map((block) => block.bytes),
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
