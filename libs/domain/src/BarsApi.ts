/** DataHub: stored bars. */
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, HttpClientRequest, OpenApi } from "@effect/platform"
import { DateTime, Effect, ParseResult, Schema } from "effect"
import { BAR_COLUMNS_CONTENT_TYPE } from "./BarColumns"
import { BarColumnBlocksFromBytes } from "./BarColumnsSchema"
import { BodyPolicy } from "./BodyPolicy"
import { MarketSymbol, ProviderName } from "./Common"
import { InvalidRequest, NotFound, ServiceUnavailable } from "./Errors"
import { TimeframeFromString } from "./Timeframe"

export const MAX_BARS = 100_000
export const DEFAULT_BARS_LIMIT = 1_000
/** The response header of a CSV page that has a next page: the cursor to pass as `cursor`. */
export const NEXT_CURSOR_HEADER = "next-cursor"
/**
 * Resampled volume and vwap are sums and ratios of many floats: rounded to this many significant
 * digits, what float noise they carry (`3219.749999999999`) does not show.
 */
export const RESAMPLED_SIGNIFICANT_DIGITS = 12

/** One bar as served: open time plus OHLCV, compact because responses can hold 100,000 of them. */
export const BarPoint = Schema.Struct({
  ts: Schema.String.annotations({
    description: "bar open time, ISO 8601 UTC with milliseconds (2024-01-02T03:04:00.000Z)"
  }),
  open: Schema.Number,
  high: Schema.Number,
  low: Schema.Number,
  close: Schema.Number,
  volume: Schema.Number,
  vwap: Schema.NullOr(Schema.Number),
  trades: Schema.NullOr(Schema.Number)
}).annotations({ identifier: "BarPoint" })
export type BarPoint = typeof BarPoint.Type

const EPOCH_MS = /^-?\d{1,16}$/
/** The instants a `Date` can hold, ±8.64e15 ms around 1970. */
const MAX_EPOCH_MS = 8.64e15
const isoInstant = Schema.decodeUnknown(Schema.DateTimeUtc)

/**
 * An instant in a query string: ISO 8601 (`2024-01-02T03:04:00Z`) or epoch milliseconds
 * (`1704164640000`, digits only, so `2024` is 2024 ms after 1970, not a year). Sent as ISO 8601.
 */
export const InstantParam = Schema.transformOrFail(Schema.String, Schema.DateTimeUtcFromSelf, {
  strict: true,
  decode: (s, _, ast) => {
    if (!EPOCH_MS.test(s))
      return ParseResult.mapError(
        isoInstant(s),
        () => new ParseResult.Type(ast, s, `"${s}" is neither ISO 8601 nor epoch milliseconds`)
      )
    const ms = Number(s)
    return Math.abs(ms) <= MAX_EPOCH_MS
      ? ParseResult.succeed(DateTime.unsafeMake(ms))
      : ParseResult.fail(new ParseResult.Type(ast, s, `${s} ms is outside the instants a date can hold`))
  },
  encode: (dt) => ParseResult.succeed(DateTime.formatIso(dt))
}).annotations({
  identifier: "Instant",
  description: "ISO 8601 instant (2024-01-02T03:04:00Z) or UTC epoch milliseconds (1704164640000)"
})

export const BarsQuery = Schema.Struct({
  provider: Schema.optional(ProviderName),
  /** The provider's symbol; with `commonSymbol` instead, the provider's mapped symbol is used. */
  symbol: Schema.optional(MarketSymbol),
  commonSymbol: Schema.optional(MarketSymbol),
  timeframe: TimeframeFromString,
  from: Schema.optional(InstantParam),
  to: Schema.optional(InstantParam),
  limit: Schema.optional(
    Schema.compose(Schema.NumberFromString, Schema.Int.pipe(Schema.between(1, MAX_BARS))).annotations({
      description:
        "Bars per page, 1–100,000. JSON: 1,000 when absent. CSV: when absent, every bar of the range in one download"
    })
  ),
  cursor: Schema.optional(
    Schema.String.pipe(Schema.maxLength(64)).annotations({
      description:
        "Continue after the previous page: its `nextCursor` (JSON) or `Next-Cursor` header (CSV), unchanged"
    })
  ),
  resample: Schema.optional(
    TimeframeFromString.annotations({
      description: "Serve bars of this larger timeframe, aggregated from the stored `timeframe` bars"
    })
  ),
  format: Schema.optional(
    Schema.Literal("json", "csv").annotations({
      description:
        "json (default) or csv: a header line ts,open,high,low,close,volume,vwap,trades, then a bar per line"
    })
  )
})

export const BarsPage = Schema.Struct({
  provider: ProviderName,
  symbol: MarketSymbol,
  timeframe: Schema.String,
  bars: Schema.Array(BarPoint),
  nextCursor: Schema.NullOr(Schema.String).annotations({
    description: "Pass as `cursor` for the next page; null when the range holds no more bars"
  })
}).annotations({ identifier: "BarsPage" })

export const LatestQuery = Schema.Struct({
  provider: ProviderName,
  symbol: MarketSymbol,
  timeframe: TimeframeFromString
})

/** One stored series, named by the provider's own symbol, over [from, to). */
export const BarColumnsQuery = Schema.Struct({
  provider: ProviderName,
  symbol: MarketSymbol,
  timeframe: TimeframeFromString,
  from: Schema.optional(InstantParam),
  to: Schema.optional(InstantParam)
})

/** `GET /bars/columns`: its own constant, so that `barColumnsRequest` builds its request from it. */
const BarColumnsEndpoint = HttpApiEndpoint.get("columns", "/bars/columns")
  .setUrlParams(BarColumnsQuery)
  .addSuccess(
    BarColumnBlocksFromBytes.pipe(
      HttpApiSchema.withEncoding({ kind: "Uint8Array", contentType: BAR_COLUMNS_CONTENT_TYPE })
    )
  )
  .addError(InvalidRequest)
  .addError(NotFound)
  .addError(ServiceUnavailable)
  .annotate(
    OpenApi.Description,
    "Every stored bar with from <= ts < to of one series, oldest first, as binary float64 columns " +
      "(ts, open, high, low, close, volume; see the BarColumnsBinary schema), sent while it is read: " +
      "no page limit. For programs (backtests); people read GET /bars"
  )

export class BarsGroup extends HttpApiGroup.make("bars")
  .add(
    HttpApiEndpoint.get("query", "/bars")
      .setUrlParams(BarsQuery)
      .addSuccess(BarsPage)
      .addSuccess(HttpApiSchema.Text({ contentType: "text/csv" }))
      .addError(InvalidRequest)
      .addError(NotFound)
      .addError(ServiceUnavailable)
      .annotate(
        OpenApi.Description,
        "Bars with from <= ts < to (open times; from and to as ISO 8601 or epoch milliseconds), oldest first. " +
          "Name the series by provider and symbol, or by commonSymbol (resolved through the Registry's mappings). " +
          "Pages: at most `limit` bars; pass `nextCursor` back as `cursor` for the next one. " +
          `\`resample=1h\` aggregates into a larger timeframe (volume and vwap rounded to ${RESAMPLED_SIGNIFICANT_DIGITS} significant digits). ` +
          "`format=csv` answers text/csv: with `limit`, one page and, when more follow, the cursor in the " +
          "`Next-Cursor` response header; without `limit`, the whole range (an export)."
      )
  )
  .add(
    HttpApiEndpoint.get("latest", "/bars/latest")
      .setUrlParams(LatestQuery)
      .addSuccess(BarPoint)
      .addError(NotFound)
      .addError(ServiceUnavailable)
      .annotate(
        OpenApi.Description,
        "The newest bar of a series: the forming one if live, else the last closed"
      )
  )
  .add(BarColumnsEndpoint)
  .middleware(BodyPolicy)
  .annotate(OpenApi.Description, "Stored OHLCV bars") {}

const encodeColumnsQuery = Schema.encode(BarColumnsQuery)

/**
 * The request the derived client would send for `GET /bars/columns` with `query` (the endpoint's
 * path, its url params encoded by its own schema), for a caller that reads the answer as it
 * streams in: the derived client reads a body whole before decoding it, a million bars' 48 MB
 * and its copies at once.
 */
export const barColumnsRequest = (baseUrl: string, query: typeof BarColumnsQuery.Type) =>
  Effect.map(encodeColumnsQuery(query), (params) =>
    HttpClientRequest.get(BarColumnsEndpoint.path).pipe(
      HttpClientRequest.prependUrl(baseUrl),
      HttpClientRequest.appendUrlParams(params)
    )
  )
