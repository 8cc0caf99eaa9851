/**
 * `GET /bars` and `GET /bars/latest`. A JSON page is rendered by PostgreSQL and sent as text, in
 * the pieces PostgreSQL rendered (`handleRaw`): decoding 100,000 bars into objects only to
 * encode them again would cost more than the query. The declared success schema stays `BarsPage`, so the derived client and the
 * OpenAPI document describe exactly what is sent.
 *
 * `format=csv` is an export: it streams every bar of the range (after `cursor`, if given) in
 * keyset pages of 10,000 rows, so memory stays flat whatever the range; `limit` does not apply.
 */
import { HttpApiBuilder, HttpServerResponse } from "@effect/platform"
import {
  type BarsQuery,
  DataHubApi,
  DEFAULT_BARS_LIMIT,
  InvalidRequest,
  NotFound,
  Timeframe
} from "@quasar/domain"
import { orDieOnSql } from "@quasar/server"
import { DateTime, Effect, Layer, Option, Stream } from "effect"
import { BarsRepo, type Page, type PageRequest, type Series } from "./store/BarsRepo"

type Query = typeof BarsQuery.Type

const CSV_HEADER = "ts,open,high,low,close,volume,vwap,trades\n"
const CSV_PAGE_ROWS = 10_000

/** Opaque to clients: the open time of the last bar served, so the next page starts after it. */
const encodeCursor = (ms: number) => Buffer.from(`t${ms}`).toString("base64url")
const decodeCursor = (cursor: string): number | undefined => {
  const match = /^t(-?\d{1,16})$/.exec(Buffer.from(cursor, "base64url").toString("latin1"))
  const ms = match ? Number(match[1]) : Number.NaN
  // Only instants a Date can hold: the cursor becomes a bound of the next query.
  return Math.abs(ms) <= 8.64e15 ? ms : undefined
}

const invalid = (field: string, message: string) => Effect.fail(new InvalidRequest({ field, message }))

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

const make = Effect.gen(function* () {
  const repo = yield* BarsRepo

  /** The stored series a query names: provider + symbol, or a common symbol through asset_mapping. */
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
      const mapped = yield* repo.mapped(q.commonSymbol, q.provider)
      const [only] = mapped
      if (only === undefined)
        return yield* Effect.fail(
          new NotFound({
            message: `no provider symbol is mapped to common symbol ${q.commonSymbol}${q.provider ? ` at ${q.provider}` : ""}: add a mapping in the Registry (/api/registry/mappings) or query by provider and symbol`
          })
        )
      if (mapped.length > 1)
        return yield* invalid(
          "provider",
          `common symbol ${q.commonSymbol} is mapped at several providers (${mapped.map((m) => m.provider).join(", ")}): add provider= to pick one`
        )
      return { provider: only.provider, symbol: only.symbol, timeframe } satisfies Series
    })

  /** An empty answer is fine for a known series; for a name DataHub has never seen it is a 404. */
  const ensureKnown = (series: Series) =>
    Effect.flatMap(repo.known(series.provider, series.symbol), (known) =>
      !known.provider
        ? Effect.fail(
            new NotFound({
              message: `unknown provider ${series.provider}: no code, assets or bars are registered under that name; see GET /api/registry/code`
            })
          )
        : !known.symbol
          ? Effect.fail(
              new NotFound({
                message: `unknown symbol ${series.symbol} at ${series.provider}: it is not in the provider's assets and no bars are stored for it; check the spelling or refresh the provider's assets`
              })
            )
          : Effect.void
    )

  const firstPage = (format: "json" | "csv", request: PageRequest) =>
    Effect.tap(repo.page(format, request), (page) =>
      page.count === 0 && request.after === undefined ? ensureKnown(request.series) : Effect.void
    )

  const nextAfter = (page: Page): Option.Option<number> =>
    page.more && page.lastMs !== null ? Option.some(page.lastMs) : Option.none()

  const query = (q: Query) =>
    Effect.gen(function* () {
      yield* checkQuery(q)
      const series = yield* resolve(q)
      const request: PageRequest = {
        series,
        from: q.from && DateTime.toEpochMillis(q.from),
        to: q.to && DateTime.toEpochMillis(q.to),
        after: q.cursor === undefined ? undefined : decodeCursor(q.cursor),
        limit: q.format === "csv" ? CSV_PAGE_ROWS : (q.limit ?? DEFAULT_BARS_LIMIT),
        resample: q.resample
      }
      if (q.format === "csv") {
        const first = yield* firstPage("csv", request)
        const rest = Stream.unfoldEffect(nextAfter(first), (after) =>
          Option.match(after, {
            onNone: () => Effect.succeed(Option.none()),
            onSome: (ms) =>
              Effect.map(repo.page("csv", { ...request, after: ms }), (page) =>
                Option.some([page.parts, nextAfter(page)] as const)
              )
          })
        )
        return HttpServerResponse.stream(
          Stream.concat(
            Stream.fromIterable([CSV_HEADER, ...first.parts]),
            Stream.flattenIterables(rest)
          ).pipe(Stream.encodeText),
          { contentType: "text/csv; charset=utf-8" }
        )
      }
      const page = yield* firstPage("json", request)
      const cursor = Option.match(nextAfter(page), {
        onNone: () => "null",
        onSome: (ms) => `"${encodeCursor(ms)}"`
      })
      const head =
        `{"provider":${JSON.stringify(series.provider)},"symbol":${JSON.stringify(series.symbol)},` +
        `"timeframe":"${q.resample ?? q.timeframe}","bars":`
      // Sent piece by piece: a 100,000-bar page is ~15 MB, which is never made into one string.
      return HttpServerResponse.stream(
        Stream.fromIterable([head, ...page.parts, `,"nextCursor":${cursor}}`]).pipe(Stream.encodeText),
        { contentType: "application/json" }
      )
    }).pipe(orDieOnSql, Effect.withSpan("BarsApi.query"))

  const latest = (series: Series) =>
    repo.latest(series).pipe(
      orDieOnSql,
      Effect.flatMap(
        Option.match({
          onSome: Effect.succeed,
          onNone: () =>
            Effect.fail(
              new NotFound({
                message: `no bars stored for ${series.provider} ${series.symbol} ${series.timeframe}: check the names, or subscribe to the series first`
              })
            )
        })
      )
    )

  return { query, latest } as const
})

export const BarsApiLive = HttpApiBuilder.group(DataHubApi, "bars", (handlers) =>
  Effect.map(make, (bars) =>
    handlers
      .handleRaw("query", ({ urlParams }) => bars.query(urlParams))
      .handle("latest", ({ urlParams }) => bars.latest(urlParams))
  )
).pipe(Layer.provide(BarsRepo.layer))
