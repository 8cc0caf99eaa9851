/**
 * What `GET /bars` and `GET /bars/latest` do: check how the parameters relate, resolve the
 * series, read a page (or, for a CSV export, every page of the range) and answer it in the asked
 * format. JSON pages hold at most `limit` bars (1,000 by default) and name the next page's cursor;
 * CSV with `limit` is the same page as CSV with the cursor in the `Next-Cursor` header, and CSV
 * without `limit` is an export of the whole range (after `cursor`, if given), read in keyset pages
 * of 10,000 bars while it is sent, so memory stays flat whatever the range.
 */
import {
  type BarsQuery,
  DEFAULT_BARS_LIMIT,
  InvalidRequest,
  type LatestQuery,
  NotFound,
  Timeframe
} from "@quasar/domain"
import { orDieOnSql } from "@quasar/server"
import { Context, DateTime, Effect, Layer, Option, Stream } from "effect"
import { BarsRepo, type Page, type PageFormat, type PageRequest } from "../store/BarsRepo"
import { csvExport, csvPage, jsonPage } from "./barsResponse"
import { decodeCursor, encodeCursor } from "./cursor"
import { SeriesResolver } from "./SeriesResolver"

type Query = typeof BarsQuery.Type

const EXPORT_PAGE_ROWS = 10_000

const invalid = (field: string, message: string) => new InvalidRequest({ field, message })

/** The checks a schema cannot express: how the parameters relate to each other. */
const checkQuery = (q: Query) =>
  Effect.gen(function* () {
    if (q.from && q.to && DateTime.greaterThan(q.from, q.to))
      return yield* invalid("from", "from is after to: give a range with from <= to (to is exclusive)")
    if (q.resample && !Timeframe.divides(q.timeframe, q.resample))
      return yield* invalid(
        "resample",
        `resample=${q.resample} is not a larger whole multiple of timeframe=${q.timeframe}: ` +
          `pick one of ${Timeframe.timeframes.filter((tf) => Timeframe.divides(q.timeframe, tf)).join(", ") || "none (nothing is larger)"}, or leave resample out`
      )
    if (q.cursor !== undefined && decodeCursor(q.cursor) === undefined)
      return yield* invalid("cursor", "cursor is not one this API issued: pass a page's nextCursor unchanged")
  })

/** Where the page after `page` starts, if more bars follow it in the range. */
const nextAfter = (page: Page): Option.Option<number> =>
  page.more && page.lastMs !== null ? Option.some(page.lastMs) : Option.none()

const make = Effect.gen(function* () {
  const repo = yield* BarsRepo
  const resolver = yield* SeriesResolver

  /** The first page asked for; when it is empty, the series must at least be one DataHub knows. */
  const firstPage = (format: PageFormat, request: PageRequest) =>
    Effect.tap(repo.page(format, request), (page) =>
      page.count === 0 && request.after === undefined ? resolver.ensureKnown(request.series) : Effect.void
    )

  /** Every page of `request` after `first`, as CSV lines, read as the answer is sent. */
  const remainingLines = (request: PageRequest, first: Page) =>
    Stream.unfoldEffect(nextAfter(first), (after) =>
      Option.match(after, {
        onNone: () => Effect.succeed(Option.none()),
        onSome: (ms) =>
          Effect.map(repo.page("csv", { ...request, after: ms }), (page) =>
            Option.some([page.parts, nextAfter(page)] as const)
          )
      })
    ).pipe(Stream.flattenIterables)

  const query = (q: Query) =>
    Effect.gen(function* () {
      yield* checkQuery(q)
      const series = yield* resolver.resolve(q)
      const format = q.format ?? "json"
      const exportAll = format === "csv" && q.limit === undefined
      const request: PageRequest = {
        series,
        from: q.from && DateTime.toEpochMillis(q.from),
        to: q.to && DateTime.toEpochMillis(q.to),
        after: q.cursor === undefined ? undefined : decodeCursor(q.cursor),
        limit: exportAll ? EXPORT_PAGE_ROWS : (q.limit ?? DEFAULT_BARS_LIMIT),
        resample: q.resample
      }
      const page = yield* firstPage(format, request)
      if (exportAll)
        return csvExport(Stream.concat(Stream.fromIterable(page.parts), remainingLines(request, page)))
      const cursor = Option.getOrNull(Option.map(nextAfter(page), encodeCursor))
      return format === "csv"
        ? csvPage(page.parts, cursor)
        : jsonPage({ ...series, timeframe: q.resample ?? q.timeframe }, page.parts, cursor)
    }).pipe(orDieOnSql, Effect.withSpan("BarReader.query"))

  const latest = (q: typeof LatestQuery.Type) =>
    repo.latest(q).pipe(
      orDieOnSql,
      Effect.flatMap(
        Option.match({
          onSome: Effect.succeed,
          onNone: () =>
            new NotFound({
              message: `no bars stored for ${q.provider} ${q.symbol} ${q.timeframe}: check the names, or subscribe to the series first`
            })
        })
      ),
      Effect.withSpan("BarReader.latest")
    )

  return { query, latest } as const
})

export class BarReader extends Context.Tag("@quasar/datahub/BarReader")<
  BarReader,
  Effect.Effect.Success<typeof make>
>() {
  static readonly layer = Layer.effect(BarReader, make).pipe(
    Layer.provide(SeriesResolver.layer),
    Layer.provide(BarsRepo.layer)
  )
}
