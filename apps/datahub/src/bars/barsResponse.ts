/**
 * The HTTP answers of `GET /bars`, a JSON `BarsPage` or CSV, sent in the pieces PostgreSQL
 * rendered (`barText`): a 100,000-bar page is ~15 MB, which is never made into one string, and
 * decoding it into objects only to encode them again would cost more than the query. The
 * endpoint's declared success schemas stay `BarsPage` and text/csv, so the derived client and the
 * OpenAPI document describe exactly what is sent (test/bars/wireFormat.test.ts checks the bytes).
 */
import { HttpServerResponse } from "@effect/platform"
import { BAR_CSV_HEADER, NEXT_CURSOR_HEADER } from "@quasar/domain"
import { Stream } from "effect"

/** A `BarsPage` around the rendered bars (a JSON array, in pieces). */
export const jsonPage = (
  meta: { readonly provider: string; readonly symbol: string; readonly timeframe: string },
  bars: ReadonlyArray<string>,
  nextCursor: string | null
) => {
  const head =
    `{"provider":${JSON.stringify(meta.provider)},"symbol":${JSON.stringify(meta.symbol)},` +
    `"timeframe":${JSON.stringify(meta.timeframe)},"bars":`
  return HttpServerResponse.stream(
    Stream.fromIterable([head, ...bars, `,"nextCursor":${JSON.stringify(nextCursor)}}`]).pipe(
      Stream.encodeText
    ),
    { contentType: "application/json" }
  )
}

const csv = (lines: Stream.Stream<string, unknown>, headers: Record<string, string> = {}) =>
  HttpServerResponse.stream(Stream.concat(Stream.make(BAR_CSV_HEADER), lines).pipe(Stream.encodeText), {
    contentType: "text/csv; charset=utf-8",
    headers
  })

/** One page of CSV lines; the cursor of the next page, if any, in the `Next-Cursor` header. */
export const csvPage = (lines: ReadonlyArray<string>, nextCursor: string | null) =>
  csv(Stream.fromIterable(lines), nextCursor === null ? {} : { [NEXT_CURSOR_HEADER]: nextCursor })

/** A whole range of CSV lines, read page after page while it is sent. */
export const csvExport = (lines: Stream.Stream<string, unknown>) => csv(lines)
