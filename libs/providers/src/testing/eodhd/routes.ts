/**
 * The fake EODHD's data endpoints as pure functions of the request (auth and faults are applied
 * by `server.ts`). Behaviour from eodhd.com/financial-apis; choices where the docs are silent:
 * - Validation errors answer HTTP 422 with Laravel's `{"errors":{field:[message]}}` body; the
 *   over-range message is the one seen in the wild
 *   (github.com/EodHistoricalData/EODHD-APIs-Python-Financial-Library issue #51).
 * - Unknown tickers and exchanges answer 404 with a plain-text body.
 * - `/intraday` without `from`/`to` covers the last 120 days
 *   (eodhd.com/financial-apis/intraday-historical-data-api); with only `from`, up to
 *   now; with only `to`, the 120 days before it. `to` is inclusive (a bar opening at `to` is
 *   served). Default interval 5m.
 * - `/eod` without `from` starts at the fake's history start; without `to`, today.
 */
import { EXCHANGES, isKnownSymbol, SYMBOL_LISTS } from "./catalog"
import { aggregateRows, DAY_MS, dailyRows, type Interval, intradayRows } from "./marketData"
import { type Format, renderDaily, renderIntraday, renderObjects } from "./wireFormat"

export interface Answer {
  readonly status: number
  readonly body: string
  readonly contentType: string
  readonly headers?: Readonly<Record<string, string>>
}

export interface RouteInput {
  readonly endpoint: string
  readonly arg: string | undefined
  readonly query: Readonly<Record<string, string>>
  readonly seed: number
  readonly now: number
}

const JSON_TYPE = "application/json"
const CSV_TYPE = "text/csv; charset=utf-8"
const TEXT_TYPE = "text/plain; charset=utf-8"

/** Max period per intraday request (eodhd.com/financial-apis/intraday-historical-data-api). */
export const MAX_DAYS: Readonly<Record<Interval, number>> = { "1m": 120, "5m": 600, "1h": 7_200 }

const DEFAULT_DAYS = 120

const data = (body: string, format: Format): Answer => ({
  status: 200,
  body,
  contentType: format === "json" ? JSON_TYPE : CSV_TYPE
})

export const invalid = (errors: Readonly<Record<string, ReadonlyArray<string>>>): Answer => ({
  status: 422,
  body: JSON.stringify({ errors }),
  contentType: JSON_TYPE
})

export const text = (status: number, body: string): Answer => ({ status, body, contentType: TEXT_TYPE })

const parseDate = (s: string | undefined): number | undefined | "bad" => {
  if (s === undefined || s === "") return undefined
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s)
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : "bad"
}

const parseSeconds = (s: string | undefined): number | undefined | "bad" => {
  if (s === undefined || s === "") return undefined
  return /^\d+$/.test(s) ? Number(s) : "bad"
}

const eod = (symbol: string, input: RouteInput, format: Format): Answer => {
  const { query, now } = input
  const from = parseDate(query.from)
  const to = parseDate(query.to)
  if (from === "bad") return invalid({ from: ["The from does not match the format Y-m-d."] })
  if (to === "bad") return invalid({ to: ["The to does not match the format Y-m-d."] })
  const period = query.period ?? "d"
  if (period !== "d" && period !== "w" && period !== "m")
    return invalid({ period: ["The selected period is invalid."] })
  const order = query.order ?? "a"
  if (order !== "a" && order !== "d") return invalid({ order: ["The selected order is invalid."] })
  const daily = dailyRows(input.seed, symbol, from ?? 0, (to ?? now) + DAY_MS, now)
  const rows = period === "d" ? daily : aggregateRows(daily, period)
  return data(renderDaily(order === "a" ? rows : rows.reverse(), format), format)
}

const intraday = (symbol: string, input: RouteInput, format: Format): Answer => {
  const { query, now } = input
  const interval = query.interval ?? "5m"
  if (interval !== "1m" && interval !== "5m" && interval !== "1h")
    return invalid({ interval: ["The selected interval is invalid."] })
  const fromArg = parseSeconds(query.from)
  const toArg = parseSeconds(query.to)
  if (fromArg === "bad") return invalid({ from: ["The from must be an integer."] })
  if (toArg === "bad") return invalid({ to: ["The to must be an integer."] })
  const maxSeconds = MAX_DAYS[interval] * 86_400
  const to = toArg ?? Math.floor(now / 1000)
  const from = fromArg ?? to - DEFAULT_DAYS * 86_400
  if (to - from > maxSeconds) {
    const message = `Max period length is ${MAX_DAYS[interval]} days`
    return invalid({ to: [message], from: [message] })
  }
  const rows = intradayRows(input.seed, symbol, interval, from * 1000, to * 1000 + 1, now)
  return data(renderIntraday(rows, format), format)
}

const TYPE_FILTER: Readonly<Record<string, ReadonlyArray<string>>> = {
  common_stock: ["Common Stock"],
  preferred_stock: ["Preferred Stock"],
  stock: ["Common Stock", "Preferred Stock"],
  etf: ["ETF"],
  fund: ["FUND"]
}

const symbolList = (exchange: string, input: RouteInput, format: Format): Answer => {
  const rows = SYMBOL_LISTS[exchange]
  if (!rows) return text(404, "Exchange Not Found.")
  const types = input.query.type === undefined ? undefined : TYPE_FILTER[input.query.type.toLowerCase()]
  const selected = types === undefined ? rows : rows.filter((r) => types.includes(r.Type))
  return data(renderObjects(input.query.delisted === "1" ? [] : selected, format), format)
}

/** The answer for `/api/{endpoint}/{arg}` once the caller is authorised. */
export const route = (input: RouteInput): Answer => {
  const format: Format = input.query.fmt === "json" ? "json" : "csv"
  const arg = input.arg?.toUpperCase()
  switch (input.endpoint) {
    case "eod":
    case "intraday":
      if (!arg || !isKnownSymbol(arg)) return text(404, "Ticker Not Found.")
      return input.endpoint === "eod" ? eod(arg, input, format) : intraday(arg, input, format)
    case "exchange-symbol-list":
      return arg ? symbolList(arg, input, format) : text(404, "Not Found")
    case "exchanges-list":
      return data(renderObjects(EXCHANGES, format), format)
    default:
      return text(404, "Not Found")
  }
}
