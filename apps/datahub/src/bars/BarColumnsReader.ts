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
 *
 * On a PostgreSQL server the range is read by binary `COPY … TO STDOUT`s instead, each of a
 * quarter of a million bars' worth of time, decoded into blocks as they stream (`copyBarBlocks`):
 * PostgreSQL writes binary tuples several times faster than it packs pages. Two slices are read
 * at a time on two connections, so one backend writes tuples while DataHub decodes and sends the
 * other's; a slice is gathered whole (12 MB of columns at most) before it is sent, in order. A
 * one-bar page read first keeps the 400, 404 and empty answers as they are. The embedded database
 * has no COPY and reads pages.
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
import { BulkCopy, orDieOnSql } from "@quasar/server"
import { Context, DateTime, Effect, Layer, Option, Stream } from "effect"
import { BarColumnsRepo, COLUMN_PAGE_BARS, type ColumnBlock } from "../store/BarColumnsRepo"
import { BarsRepo, type Series, toTimestamp } from "../store/BarsRepo"
import { copyBarBlocks } from "./copyBarBlocks"
import { SeriesResolver } from "./SeriesResolver"

type Query = typeof BarColumnsQuery.Type

const CONCURRENT_SLICES = 2

interface Slice {
  readonly from: number
  readonly to: number
}

/**
 * Bars' worth of time one COPY reads: its slice is gathered in memory before it is sent, so a
 * slice is at most 12 MB of columns, and a COPY never waits on a slow reader.
 */
export const COPY_SLICE_BARS = 250_000

/**
 * Time slices from `start` to just past `last` (and never past the range's end), each `width` ms
 * long but the last.
 */
function* slices(start: number, last: number, width: number, to: number | undefined): Iterable<Slice> {
  const end = Math.min(last + 1, to ?? Number.POSITIVE_INFINITY)
  for (let from = start; from < end; from += width) yield { from, to: Math.min(from + width, end) }
}

interface Range {
  readonly from: number | undefined
  readonly to: number | undefined
}

/** Every bar of `series` in `range`, oldest first, as a binary COPY. */
const copyStatement = (series: Series, range: Range) => {
  const { literal } = BulkCopy
  return `COPY (SELECT ts, open, high, low, close, volume FROM datahub.historical_data
    WHERE provider = ${literal(series.provider)} AND symbol = ${literal(series.symbol)}
      AND timeframe = ${literal(series.timeframe)}
      AND ts >= ${literal(toTimestamp(range.from, "-infinity"))}::timestamptz
      AND ts < ${literal(toTimestamp(range.to, "infinity"))}::timestamptz
    ORDER BY ts) TO STDOUT (FORMAT binary)`
}

const make = Effect.gen(function* () {
  const repo = yield* BarColumnsRepo
  const resolver = yield* SeriesResolver
  const bulk = yield* BulkCopy.BulkCopy

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

  /** The header, `blocks`, and the end block only if every block was read. */
  const answer = (blocks: Stream.Stream<Uint8Array>) =>
    HttpServerResponse.stream(
      Stream.make(barColumnsHeader()).pipe(
        Stream.concat(blocks),
        Stream.concat(Stream.make(barColumnsEnd()))
      ),
      { contentType: BAR_COLUMNS_CONTENT_TYPE }
    )

  const columns = (q: Query) =>
    Effect.gen(function* () {
      if (q.from && q.to && DateTime.greaterThan(q.from, q.to))
        return yield* new InvalidRequest({
          field: "from",
          message: "from is after to: give a range with from <= to (to is exclusive)"
        })
      const series: Series = { provider: q.provider, symbol: q.symbol, timeframe: q.timeframe }
      const range: Range = {
        from: q.from && DateTime.toEpochMillis(q.from),
        to: q.to && DateTime.toEpochMillis(q.to)
      }
      const timeframeMs = Timeframe.durationMs(series.timeframe)
      if (bulk.available) {
        const probe = yield* repo.page(series, range, undefined, 1)
        if (probe === undefined) return yield* Effect.as(resolver.ensureKnown(series), answer(Stream.empty))
        // The probe's one bar is the range's first: the slices start at it.
        const copied = Stream.unwrap(
          Effect.map(repo.lastMs(series, range), (last) =>
            Option.match(last, {
              onNone: () => Stream.empty,
              onSome: (lastMs) =>
                Stream.fromIterable(
                  slices(probe.lastMs, lastMs, COPY_SLICE_BARS * timeframeMs, range.to)
                ).pipe(
                  Stream.mapEffect(
                    (slice) =>
                      Stream.runCollect(
                        copyBarBlocks(bulk.copyOut(copyStatement(series, slice)), COLUMN_PAGE_BARS)
                      ),
                    { concurrency: CONCURRENT_SLICES }
                  ),
                  Stream.flattenIterables
                )
            })
          )
        )
        return answer(copied.pipe(Stream.orDie))
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
                      slices(first.lastMs, lastMs, COLUMN_PAGE_BARS * timeframeMs, range.to)
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
      return answer(
        (first === undefined ? Stream.empty : Stream.make(first.bytes)).pipe(Stream.concat(blocks))
      )
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
