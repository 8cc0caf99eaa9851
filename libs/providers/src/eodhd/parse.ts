/**
 * Pure parsers for EODHD response bodies (eodhd.com/financial-apis). They never
 * throw: a body that cannot be understood as a whole is `{ ok: false }` (the caller retries the
 * chunk), a row that cannot be understood is listed in `skipped` (the caller logs and drops it).
 */
import type { AssetClass, AssetInfo, ProviderBar } from "../sdk"

export interface SkippedRow {
  readonly index: number
  readonly reason: string
  readonly raw: string
}

export type Parsed<T> =
  | { readonly ok: true; readonly rows: ReadonlyArray<T>; readonly skipped: ReadonlyArray<SkippedRow> }
  | { readonly ok: false; readonly reason: string }

/** A daily bar plus what EODHD sends beside it (the SDK's ProviderBar has no field for it). */
export interface EodBar extends ProviderBar {
  readonly date: string
  readonly adjustedClose: number | undefined
}

type Row<T> = { readonly value: T } | { readonly reason: string }

const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

const snippet = (u: unknown): string => {
  const s = typeof u === "string" ? u : (JSON.stringify(u) ?? String(u))
  return s.length > 200 ? `${s.slice(0, 200)}…` : s
}

const parseJson = (text: string): { readonly ok: true; readonly value: unknown } | { readonly ok: false } => {
  try {
    return { ok: true, value: JSON.parse(text) }
  } catch {
    return { ok: false }
  }
}

/** A finite number; numeric strings are accepted because EODHD's typing is not guaranteed. */
const num = (u: unknown): number | undefined => {
  if (typeof u === "number") return Number.isFinite(u) ? u : undefined
  if (typeof u === "string" && u.trim() !== "") {
    const n = Number(u)
    return Number.isFinite(n) ? n : undefined
  }
  return undefined
}

const str = (u: unknown): string | undefined =>
  typeof u === "string" && u.trim() !== "" ? u.trim() : undefined

/** Parses a JSON array body row by row; a non-empty array of only bad rows is malformed as a whole. */
const parseArray = <T>(text: string, what: string, row: (raw: unknown) => Row<T>): Parsed<T> => {
  const json = parseJson(text)
  if (!json.ok) return { ok: false, reason: `${what} body is not JSON: ${snippet(text)}` }
  if (!Array.isArray(json.value))
    return { ok: false, reason: `${what} body is not an array: ${snippet(text)}` }
  const rows: Array<T> = []
  const skipped: Array<SkippedRow> = []
  json.value.forEach((raw: unknown, index) => {
    const r = row(raw)
    if ("value" in r) rows.push(r.value)
    else skipped.push({ index, reason: r.reason, raw: snippet(raw) })
  })
  if (rows.length === 0 && skipped.length > 0)
    return { ok: false, reason: `every ${what} row is malformed (first: ${skipped[0]?.reason})` }
  return { ok: true, rows, skipped }
}

const ohlc = (r: Record<string, unknown>): Row<Omit<ProviderBar, "ts" | "volume">> => {
  const open = num(r.open)
  const high = num(r.high)
  const low = num(r.low)
  const close = num(r.close)
  if (open === undefined || high === undefined || low === undefined || close === undefined)
    return { reason: "open/high/low/close missing or not numbers" }
  return { value: { open, high, low, close } }
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/

/**
 * `date` is the trading day, with no time and no zone
 * (eodhd.com/financial-apis/api-for-historical-data-and-volumes); the bar is keyed at 00:00 UTC of it.
 */
const dateToTs = (date: string): number | undefined => {
  const m = DATE.exec(date)
  if (!m) return undefined
  const ts = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))
  return new Date(ts).toISOString().startsWith(date) ? ts : undefined
}

/** `GET /eod/{SYMBOL}` JSON rows. */
export const parseEodBars = (text: string): Parsed<EodBar> =>
  parseArray(text, "eod", (raw): Row<EodBar> => {
    if (!isRecord(raw)) return { reason: "row is not an object" }
    const date = str(raw.date)
    const ts = date === undefined ? undefined : dateToTs(date)
    if (date === undefined || ts === undefined) return { reason: "date missing or not YYYY-MM-DD" }
    const prices = ohlc(raw)
    if (!("value" in prices)) return prices
    const volume = raw.volume === null ? 0 : num(raw.volume)
    if (volume === undefined || volume < 0) return { reason: "volume not a non-negative number" }
    return { value: { ts, date, ...prices.value, volume, adjustedClose: num(raw.adjusted_close) } }
  })

/**
 * `GET /intraday/{SYMBOL}` JSON rows (eodhd.com/financial-apis/intraday-historical-data-api):
 * `timestamp` is unix seconds UTC of the bar open; `volume` is `integer|null` in EODHD's OpenAPI
 * schema (github.com/EodHistoricalData/EODHD-openapi), null meaning none reported (⇒ 0).
 */
export const parseIntradayBars = (text: string): Parsed<ProviderBar> =>
  parseArray(text, "intraday", (raw): Row<ProviderBar> => {
    if (!isRecord(raw)) return { reason: "row is not an object" }
    const seconds = num(raw.timestamp)
    if (seconds === undefined || !Number.isInteger(seconds)) return { reason: "timestamp not unix seconds" }
    const prices = ohlc(raw)
    if (!("value" in prices)) return prices
    const volume = raw.volume === null || raw.volume === undefined ? 0 : num(raw.volume)
    if (volume === undefined || volume < 0) return { reason: "volume not a non-negative number" }
    return { value: { ts: seconds * 1000, ...prices.value, volume } }
  })

const TYPE_CLASS: Readonly<Record<string, AssetClass>> = {
  "common stock": "equity",
  "preferred stock": "equity",
  stock: "equity",
  etf: "etf",
  fund: "fund",
  "mutual fund": "fund",
  index: "index",
  bond: "bond",
  currency: "fx",
  commodity: "commodity"
}

/** Base/quote of a pair symbol: crypto `BTC-USD` (exchange CC), FX `EURUSD` (exchange FOREX). */
const pairOf = (exchange: string, code: string): { base: string; quote: string } | undefined => {
  if (exchange === "CC") {
    const [base, quote, ...rest] = code.split("-")
    return base && quote && rest.length === 0 ? { base, quote } : undefined
  }
  if (exchange === "FOREX" && /^[A-Z]{6}$/.test(code)) return { base: code.slice(0, 3), quote: code.slice(3) }
  return undefined
}

/**
 * `GET /exchange-symbol-list/{EXCHANGE}` rows
 * (eodhd.com/financial-apis/exchanges-api-list-of-tickers-and-trading-hours). The API's symbol is
 * `CODE.EXCHANGE` with the exchange code that was listed (`US`), not the row's venue (`NASDAQ`);
 * `Isin` is nullable.
 */
export const parseSymbolList = (text: string, exchangeCode: string): Parsed<AssetInfo> => {
  const listed = exchangeCode.toUpperCase()
  return parseArray(text, "exchange-symbol-list", (raw): Row<AssetInfo> => {
    if (!isRecord(raw)) return { reason: "row is not an object" }
    const code = str(raw.Code)
    if (code === undefined) return { reason: "Code missing" }
    const type = str(raw.Type)
    const pair = pairOf(listed, code)
    const assetClass: AssetClass =
      listed === "CC"
        ? "crypto"
        : listed === "FOREX"
          ? "fx"
          : (TYPE_CLASS[type?.toLowerCase() ?? ""] ?? "other")
    return {
      value: {
        symbol: `${code}.${listed}`,
        name: str(raw.Name),
        assetClass,
        base: pair?.base,
        quote: pair?.quote,
        exchange: str(raw.Exchange) ?? listed,
        currency: str(raw.Currency),
        isin: str(raw.Isin),
        status: "active",
        extra: { country: str(raw.Country) ?? null, type: type ?? null }
      }
    }
  })
}

export type ErrorBody =
  /** Plain-text `Unauthenticated` (or Laravel's JSON `{"message":"Unauthenticated."}`). */
  | { readonly kind: "unauthenticated" }
  /** Validation errors `{"errors":{"to":["Max period length is 120 days"],…}}`. */
  | { readonly kind: "errors"; readonly message: string }
  /** `{"message":…}` / `{"error":…}` JSON or any other text, shortened. */
  | { readonly kind: "text"; readonly message: string }

const UNAUTHENTICATED = /^"?unauthenticated\.?"?$/i

/** Classifies a body that may be an error; EODHD error bodies are not guaranteed JSON. */
export const parseErrorBody = (text: string): ErrorBody => {
  const trimmed = text.trim()
  if (UNAUTHENTICATED.test(trimmed)) return { kind: "unauthenticated" }
  const json = parseJson(trimmed)
  if (json.ok && isRecord(json.value)) {
    const { errors, message, error } = json.value
    if (isRecord(errors)) {
      const parts = Object.entries(errors).map(([field, msgs]) => {
        const list = Array.isArray(msgs) ? msgs.map((m) => String(m)) : [String(msgs)]
        return `${field}: ${list.join(", ")}`
      })
      return { kind: "errors", message: parts.join("; ") || "unspecified request error" }
    }
    const m = str(message) ?? str(error)
    if (m !== undefined)
      return UNAUTHENTICATED.test(m) ? { kind: "unauthenticated" } : { kind: "text", message: m }
  }
  return { kind: "text", message: snippet(trimmed.replace(/\s+/g, " ")) }
}
