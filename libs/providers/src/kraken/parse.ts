/**
 * Pure parsers for Kraken's REST and WS v2 payloads. They never throw: every function returns a
 * `Parsed` value, and collections parse element by element so one bad row costs one row.
 */
import type { ProviderBar } from "../sdk"

export type Parsed<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: string }

export const ok = <T>(value: T): Parsed<T> => ({ ok: true, value })
export const fail = (error: string): Parsed<never> => ({ ok: false, error })

export type Fields = Readonly<Record<string, unknown>>

export const isRecord = (u: unknown): u is Fields => typeof u === "object" && u !== null && !Array.isArray(u)

export const text = (u: unknown): string | undefined => (typeof u === "string" ? u : undefined)

const int = (u: unknown): number | undefined => (typeof u === "number" && Number.isInteger(u) ? u : undefined)

/**
 * A JSON number or a decimal string: REST sends strings, WS v2 floats, and sometimes strings
 * (krakenfx/kraken-api-sdk `rust/docs/guides/wire-quirks.md`).
 */
export const decimal = (u: unknown): number | undefined => {
  const n =
    typeof u === "number"
      ? u
      : typeof u === "string" && /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(u)
        ? Number(u)
        : NaN
  return Number.isFinite(n) ? n : undefined
}

export const parseJson = (raw: string): Parsed<unknown> => {
  try {
    return ok(JSON.parse(raw))
  } catch {
    return fail("not JSON")
  }
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/

/**
 * RFC 3339 to epoch ms, by hand: WS v2 sends nanosecond digits (`…00.000000000Z`,
 * docs.kraken.com/api/docs/websocket-v2/ohlc), which `Date.parse` handles only by
 * implementation-defined leniency. Digits below the millisecond are dropped (bars are
 * minute-aligned).
 */
export const parseRfc3339 = (s: string): number | undefined => {
  const m = RFC3339.exec(s)
  if (!m) return undefined
  const [, y, mo, d, h, mi, sec, frac, zone] = m.map((x) => x ?? "")
  const day = Date.UTC(Number(y), Number(mo) - 1, Number(d))
  const date = new Date(day)
  if (date.getUTCMonth() !== Number(mo) - 1 || date.getUTCDate() !== Number(d)) return undefined
  if (Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) return undefined
  const ms = Number(`${frac ?? ""}000`.slice(0, 3))
  const offsetSign = zone === "Z" || zone === "z" ? 0 : zone?.startsWith("-") ? -1 : 1
  const offsetMin = offsetSign * (Number(zone?.slice(1, 3) || 0) * 60 + Number(zone?.slice(4, 6) || 0))
  return day + ((Number(h) * 60 + Number(mi)) * 60 + Number(sec)) * 1_000 + ms - offsetMin * 60_000
}

// ---------------------------------------------------------------------------------------- REST

/** The REST envelope: HTTP 200 with errors in `error` (docs.kraken.com/api/docs/guides/spot-errors). */
export const parseEnvelope = (
  body: unknown
): Parsed<{ readonly errors: ReadonlyArray<string>; readonly result: unknown }> => {
  if (!isRecord(body) || !Array.isArray(body.error)) return fail("no `error` array in the response")
  const errors = body.error.map((e) => (typeof e === "string" ? e : JSON.stringify(e)))
  if (errors.length === 0 && !("result" in body)) return fail("no `result` in the response")
  return ok({ errors, result: body.result })
}

export type ErrorClass =
  | { readonly kind: "retryable"; readonly message: string; readonly retryAfterMs?: number }
  | { readonly kind: "fatal"; readonly message: string }

const FATAL_PREFIXES = ["EQuery:", "EGeneral:Invalid arguments", "EGeneral:Permission denied", "EAPI:Invalid"]

/**
 * Classifies Kraken's error strings (docs.kraken.com/api/docs/guides/spot-errors): unknown pairs
 * and bad arguments will not get better by retrying; rate limits, `EService:*` outages and anything
 * unrecognised may. `EService: Throttled: <unix ts>` says when to come back.
 */
export const classifyErrors = (errors: ReadonlyArray<string>, nowMs: number): ErrorClass => {
  const message = errors.join("; ")
  if (errors.some((e) => FATAL_PREFIXES.some((p) => e.startsWith(p)))) return { kind: "fatal", message }
  const throttled = errors.map((e) => /^EService:\s*Throttled:\s*(\d+)/.exec(e)).find((m) => m)
  if (throttled)
    return { kind: "retryable", message, retryAfterMs: Math.max(0, Number(throttled[1]) * 1_000 - nowMs) }
  return { kind: "retryable", message }
}

/**
 * One AssetPairs row (docs.kraken.com/api/docs/rest-api/get-tradable-asset-pairs), reduced to what
 * Quasar uses. `status` is missing on some rows.
 */
export interface KrakenPair {
  readonly restPair: string
  readonly altname: string
  readonly wsname: string | undefined
  readonly base: string
  readonly quote: string
  readonly status: string | undefined
}

export const parsePair = (restPair: string, row: unknown): Parsed<KrakenPair> => {
  if (!isRecord(row)) return fail(`pair ${restPair}: not an object`)
  const altname = text(row.altname)
  const base = text(row.base)
  const quote = text(row.quote)
  if (!altname || !base || !quote) return fail(`pair ${restPair}: missing altname/base/quote`)
  const wsname = text(row.wsname)
  return ok({ restPair, altname, wsname: wsname || undefined, base, quote, status: text(row.status) })
}

/** AssetPairs `result`: one `Parsed` per key, in the server's order. */
export const parseAssetPairs = (result: unknown): Parsed<ReadonlyArray<Parsed<KrakenPair>>> =>
  isRecord(result)
    ? ok(Object.entries(result).map(([key, row]) => parsePair(key, row)))
    : fail("AssetPairs result is not an object")

/**
 * One OHLC row `[time, "open","high","low","close","vwap","volume", count]`, decimals as strings
 * (docs.kraken.com/api/docs/rest-api/get-ohlc-data). A no-trade row (count 0) carries `vwap "0.0"`,
 * which is not a price: it is dropped.
 */
export const parseOhlcRow = (row: unknown): Parsed<ProviderBar> => {
  if (!Array.isArray(row) || row.length < 8) return fail("OHLC row is not an 8-element array")
  const time = int(row[0])
  const [open, high, low, close, vwap, volume] = row.slice(1, 7).map(decimal)
  const trades = int(row[7])
  if (time === undefined || time < 0) return fail(`OHLC row has a bad time: ${JSON.stringify(row[0])}`)
  if (open === undefined || high === undefined || low === undefined || close === undefined)
    return fail(`OHLC row ${time} has a bad price`)
  if (volume === undefined || vwap === undefined || trades === undefined || trades < 0)
    return fail(`OHLC row ${time} has a bad vwap/volume/count`)
  const bar = { ts: time * 1_000, open, high, low, close, volume, trades }
  return ok(trades > 0 ? { ...bar, vwap } : bar)
}

export interface OhlcResult {
  /** Kraken's canonical pair key, which may differ from the `pair` asked for. */
  readonly pairKey: string
  /** Every row in order; the last one is the unfinished interval. */
  readonly rows: ReadonlyArray<Parsed<ProviderBar>>
  /** The `since` cursor for the next call, unix seconds. */
  readonly last: number | undefined
}

/** OHLC `result`: rows under the one key that is not `last`. */
export const parseOhlcResult = (result: unknown): Parsed<OhlcResult> => {
  if (!isRecord(result)) return fail("OHLC result is not an object")
  const keys = Object.keys(result).filter((k) => k !== "last")
  const pairKey = keys[0]
  if (keys.length !== 1 || pairKey === undefined) return fail(`OHLC result has ${keys.length} pair keys`)
  const rows = result[pairKey]
  if (!Array.isArray(rows)) return fail(`OHLC rows for ${pairKey} are not an array`)
  const last = decimal(result.last)
  return ok({
    pairKey,
    rows: rows.map(parseOhlcRow),
    last: last === undefined ? undefined : Math.trunc(last)
  })
}

// ------------------------------------------------------------------------------------- WS v2

export interface WsOhlc {
  readonly symbol: string
  /** Minutes. */
  readonly interval: number
  readonly bar: ProviderBar
}

export type WsFrame =
  | { readonly kind: "status"; readonly system: string; readonly connectionId: number | undefined }
  | { readonly kind: "heartbeat" }
  | { readonly kind: "pong"; readonly reqId: number | undefined }
  | {
      readonly kind: "subscribed"
      readonly channel: string
      readonly symbol: string
      readonly warnings: ReadonlyArray<string>
    }
  | { readonly kind: "subscribeFailed"; readonly symbol: string | undefined; readonly error: string }
  | { readonly kind: "unsubscribed"; readonly symbol: string | undefined; readonly success: boolean }
  | {
      readonly kind: "ohlc"
      readonly type: "snapshot" | "update"
      readonly entries: ReadonlyArray<Parsed<WsOhlc>>
    }
  | { readonly kind: "error"; readonly error: string }
  | { readonly kind: "other"; readonly what: string }

/** The last `interval_begin` parsed: an update frame's entries nearly all share one. */
let lastBegin: { readonly text: string; readonly ts: number | undefined } | undefined

const beginOf = (text: string): number | undefined => {
  if (lastBegin?.text !== text) lastBegin = { text, ts: parseRfc3339(text) }
  return lastBegin.ts
}

/**
 * One `ohlc` data entry (docs.kraken.com/api/docs/websocket-v2/ohlc): JSON floats, `interval_begin`
 * with nanosecond digits.
 */
export const parseWsOhlc = (entry: unknown): Parsed<WsOhlc> => {
  if (!isRecord(entry)) return fail("ohlc entry is not an object")
  const symbol = text(entry.symbol)
  const interval = int(entry.interval)
  const begin = text(entry.interval_begin)
  const ts = begin === undefined ? undefined : beginOf(begin)
  if (!symbol || interval === undefined || interval <= 0) return fail("ohlc entry without symbol/interval")
  if (ts === undefined) return fail(`ohlc entry ${symbol} has a bad interval_begin ${JSON.stringify(begin)}`)
  // Field by field, no intermediate arrays or spreads: this runs for every pair of every frame.
  const open = decimal(entry.open)
  const high = decimal(entry.high)
  const low = decimal(entry.low)
  const close = decimal(entry.close)
  const volume = decimal(entry.volume)
  if (
    open === undefined ||
    high === undefined ||
    low === undefined ||
    close === undefined ||
    volume === undefined
  )
    return fail(`ohlc entry ${symbol} ${begin} has a bad price or volume`)
  const bar: { -readonly [K in keyof ProviderBar]: ProviderBar[K] } = { ts, open, high, low, close, volume }
  const vwap = decimal(entry.vwap)
  if (vwap !== undefined) bar.vwap = vwap
  const trades = decimal(entry.trades)
  if (trades !== undefined && Number.isInteger(trades)) bar.trades = trades
  return ok({ symbol, interval, bar })
}

const parseMethodReply = (frame: Fields, method: string): Parsed<WsFrame> => {
  if (method === "pong") return ok({ kind: "pong", reqId: int(frame.req_id) })
  if (method === "error") return ok({ kind: "error", error: text(frame.error) ?? "unknown error" })
  const result = isRecord(frame.result) ? frame.result : {}
  const symbol = text(result.symbol) ?? text(frame.symbol)
  if (method === "subscribe" && frame.success === true) {
    if (!symbol) return fail("subscribe ack without symbol")
    const warnings = Array.isArray(result.warnings)
      ? result.warnings.filter((w) => typeof w === "string")
      : []
    return ok({ kind: "subscribed", channel: text(result.channel) ?? "", symbol, warnings })
  }
  if (method === "subscribe")
    return ok({ kind: "subscribeFailed", symbol, error: text(frame.error) ?? "rejected" })
  if (method === "unsubscribe") return ok({ kind: "unsubscribed", symbol, success: frame.success === true })
  return ok({ kind: "other", what: `method ${method}` })
}

const parseChannel = (frame: Fields, channel: string): Parsed<WsFrame> => {
  if (channel === "heartbeat") return ok({ kind: "heartbeat" })
  const data = frame.data
  if (channel === "status") {
    const first = Array.isArray(data) && isRecord(data[0]) ? data[0] : undefined
    if (!first || !text(first.system)) return fail("status frame without data[0].system")
    return ok({ kind: "status", system: text(first.system) ?? "", connectionId: int(first.connection_id) })
  }
  if (channel === "ohlc") {
    const type = frame.type
    if (type !== "snapshot" && type !== "update") return fail(`ohlc frame with type ${JSON.stringify(type)}`)
    if (!Array.isArray(data)) return fail("ohlc frame without a data array")
    return ok({ kind: "ohlc", type, entries: data.map(parseWsOhlc) })
  }
  return ok({ kind: "other", what: `channel ${channel}` })
}

/** Any WS v2 text frame. Unknown but well-formed frames come back as `other`. */
export const parseWsFrame = (raw: string): Parsed<WsFrame> => {
  const json = parseJson(raw)
  if (!json.ok) return json
  const frame = json.value
  if (!isRecord(frame)) return fail("frame is not a JSON object")
  const channel = text(frame.channel)
  if (channel !== undefined) return parseChannel(frame, channel)
  const method = text(frame.method)
  if (method !== undefined) return parseMethodReply(frame, method)
  // Message-rate breach: `{"Error": "Exceeded msg rate"}`, the limit depending on system load.
  const error = text(frame.Error) ?? text(frame.error)
  if (error !== undefined) return ok({ kind: "error", error })
  return fail("frame has neither channel nor method")
}
