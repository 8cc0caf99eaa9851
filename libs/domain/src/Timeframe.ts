/**
 * Bar timeframes and their arithmetic. All times are UTC epoch milliseconds and every bar is
 * keyed by its **open** time. Weekly bars open on Monday 00:00 UTC (ISO weeks), as Kraken's and
 * most exchanges' weekly candles do.
 */
import { Either, ParseResult, Schema } from "effect"
import { timeframeMs as durations, timeframes } from "./timeframeLengths"

export { timeframes }

export const Timeframe = Schema.Literal(...timeframes).annotations({
  identifier: "Timeframe",
  description: "Bar length: 1m 5m 15m 30m 1h 4h 1d 1w"
})
export type Timeframe = typeof Timeframe.Type

const MINUTE = durations["1m"]
const DAY = durations["1d"]

/** 1970-01-01 was a Thursday; the first Monday 00:00 UTC is four days later. */
const WEEK_ORIGIN = 4 * DAY

/** The length of one bar in milliseconds. */
export const durationMs = (tf: Timeframe): number => durations[tf]

/** The length of one bar in whole minutes (Kraken's `interval`). */
export const minutes = (tf: Timeframe): number => durations[tf] / MINUTE

const aliases: Record<string, Timeframe> = {
  "1min": "1m",
  "5min": "5m",
  "15min": "15m",
  "30min": "30m",
  "60m": "1h",
  "1hour": "1h",
  "240m": "4h",
  "4hour": "4h",
  "1day": "1d",
  d: "1d",
  daily: "1d",
  "1week": "1w",
  w: "1w",
  weekly: "1w"
}

/** Parses a timeframe, accepting the canonical names case-insensitively plus common aliases. */
export const parse = (input: string): Either.Either<Timeframe, string> => {
  const key = input.trim().toLowerCase()
  const found = (timeframes as ReadonlyArray<string>).includes(key)
    ? (key as Timeframe)
    : Object.hasOwn(aliases, key)
      ? aliases[key]
      : undefined
  return found
    ? Either.right(found)
    : Either.left(`unknown timeframe "${input}": use one of ${timeframes.join(", ")}`)
}

/** The canonical name of a timeframe. */
export const format = (tf: Timeframe): string => tf

/** The open time of the bar that contains `epochMs`. */
export const barOpen = (tf: Timeframe, epochMs: number): number => {
  const d = durations[tf]
  const origin = tf === "1w" ? WEEK_ORIGIN : 0
  return Math.floor((epochMs - origin) / d) * d + origin
}

/** The close time (exclusive end) of the bar that contains `epochMs`; also the next bar's open. */
export const barClose = (tf: Timeframe, epochMs: number): number => barOpen(tf, epochMs) + durations[tf]

/** True when `epochMs` is exactly a bar open time. */
export const isAligned = (tf: Timeframe, epochMs: number): boolean => barOpen(tf, epochMs) === epochMs

/** True when the bar opening at `openMs` has closed at `nowMs`. */
export const isClosed = (tf: Timeframe, openMs: number, nowMs: number): boolean =>
  openMs + durations[tf] <= nowMs

/** Open times of every bar in [fromMs, toMs), aligned to the timeframe. */
export const opensBetween = (tf: Timeframe, fromMs: number, toMs: number): Array<number> => {
  const out: Array<number> = []
  const d = durations[tf]
  for (let t = isAligned(tf, fromMs) ? fromMs : barClose(tf, fromMs); t < toMs; t += d) out.push(t)
  return out
}

/** True when `larger` is a whole multiple of `smaller` on the same grid (usable for resampling). */
export const divides = (smaller: Timeframe, larger: Timeframe): boolean => {
  const s = durations[smaller]
  const l = durations[larger]
  // Weekly bars open on Monday 00:00 UTC, which every daily or shorter grid also contains.
  return l > s && l % s === 0
}

/** Schema for a timeframe given as free text (query strings): aliases accepted, canonical out. */
export const TimeframeFromString = Schema.transformOrFail(Schema.String, Timeframe, {
  strict: true,
  decode: (s, _, ast) => Either.mapLeft(parse(s), (message) => new ParseResult.Type(ast, s, message)),
  encode: (tf) => Either.right(tf)
}).annotations({ identifier: "TimeframeParam", description: "Bar length: 1m 5m 15m 30m 1h 4h 1d 1w" })
