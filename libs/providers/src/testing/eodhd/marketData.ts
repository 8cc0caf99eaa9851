/**
 * The fake EODHD's data, derived from the deterministic random walk (`barAt`/`barsBetween`):
 * which bars exist (calendar and sessions) and how they look on the wire. Choices:
 * - Daily bars: Mon–Fri for `.US` and `.FOREX`, every day for `.CC`, from 2000-01-03 on.
 * - About one `.US` weekday in 40 (deterministic per symbol and day) is a *flat* day: OHLC all
 *   at the open, volume 0, no intraday bars — the filled-in holidays EODHD serves
 *   (eodhd.com/financial-apis/api-for-historical-data-and-volumes).
 * - Intraday: `.US` bars opening in 13:30–20:00 UTC on (non-flat) weekdays; `.CC` and `.FOREX`
 *   24/7. `.FOREX` intraday volume is `null` (FX has no volume; EODHD's OpenAPI schema,
 *   github.com/EodHistoricalData/EODHD-openapi, allows null).
 * - Volumes of `.US`/`.FOREX` are whole numbers; `adjusted_close` of `.US` steps down 1.5% per
 *   year before 2025 (a stand-in for dividends and splits); elsewhere it equals `close`.
 * - Bars are served up to the one forming at `now` (EODHD serves today's moving bar), so a
 *   client must drop bars that have not closed.
 */
import type { ProviderBar, Timeframe } from "../../sdk/types"
import { barAt, barsBetween } from "../../synthetic/randomWalk"
import { type Venue, venueOf } from "./catalog"

export const DAY_MS = 86_400_000
export const HISTORY_START = Date.UTC(2000, 0, 3)

export type Interval = "1m" | "5m" | "1h"
export const INTERVAL_MS: Readonly<Record<Interval, number>> = {
  "1m": 60_000,
  "5m": 300_000,
  "1h": 3_600_000
}
const SESSION_OPEN_MS = (13 * 60 + 30) * 60_000
const SESSION_CLOSE_MS = 20 * 60 * 60_000

export interface DailyRow {
  readonly ts: number
  readonly open: number
  readonly high: number
  readonly low: number
  readonly close: number
  readonly adjustedClose: number
  readonly volume: number
}

export interface IntradayRow {
  readonly ts: number
  readonly open: number
  readonly high: number
  readonly low: number
  readonly close: number
  readonly volume: number | null
}

const round4 = (x: number): number => Math.round(x * 1e4) / 1e4

const isWeekday = (ts: number): boolean => {
  const day = new Date(ts).getUTCDay()
  return day !== 0 && day !== 6
}

const mix = (symbol: string, n: number): number => {
  let h = Math.imul(n | 0, 0x9e3779b1) >>> 0
  for (let i = 0; i < symbol.length; i++) h = Math.imul(h ^ symbol.charCodeAt(i), 0x01000193) >>> 0
  h ^= h >>> 15
  return Math.imul(h, 0x2c1b3c6d) >>> 0
}

export const isFlatDay = (symbol: string, day: number): boolean =>
  venueOf(symbol) === "US" && isWeekday(day) && mix(symbol, day / DAY_MS) % 40 === 0

const hasDailyBar = (venue: Venue, day: number): boolean => venue === "CC" || isWeekday(day)

const adjustment = (venue: Venue, day: number): number =>
  venue === "US" ? 0.985 ** Math.max(0, 2025 - new Date(day).getUTCFullYear()) : 1

/** Daily rows with `date` in `[from, to)` that exist by `now` (today's forming bar included). */
export const dailyRows = (
  seed: number,
  symbol: string,
  from: number,
  to: number,
  now: number
): Array<DailyRow> => {
  const venue = venueOf(symbol)
  if (!venue) return []
  const rows: Array<DailyRow> = []
  const end = Math.min(to, now + 1)
  for (let day = Math.ceil(Math.max(from, HISTORY_START) / DAY_MS) * DAY_MS; day < end; day += DAY_MS) {
    if (!hasDailyBar(venue, day)) continue
    const bar = barAt({ seed }, symbol, "1d", day)
    const k = adjustment(venue, day)
    const volume = venue === "CC" ? bar.volume : Math.round(bar.volume)
    if (isFlatDay(symbol, day)) {
      const o = bar.open
      rows.push({ ts: day, open: o, high: o, low: o, close: o, adjustedClose: round4(o * k), volume: 0 })
    } else {
      const { open, high, low, close } = bar
      rows.push({ ts: day, open, high, low, close, adjustedClose: round4(close * k), volume })
    }
  }
  return rows
}

const toRow = (venue: Venue, bar: ProviderBar): IntradayRow => ({
  ts: bar.ts,
  open: bar.open,
  high: bar.high,
  low: bar.low,
  close: bar.close,
  volume: venue === "FOREX" ? null : venue === "US" ? Math.round(bar.volume) : bar.volume
})

/** Intraday rows opening in `[from, to)` that exist by `now` (the forming bar included). */
export const intradayRows = (
  seed: number,
  symbol: string,
  interval: Interval,
  from: number,
  to: number,
  now: number
): Array<IntradayRow> => {
  const venue = venueOf(symbol)
  if (!venue) return []
  const end = Math.min(to, now + 1)
  if (venue !== "US") return barsBetween({ seed }, symbol, interval, from, end).map((b) => toRow(venue, b))
  const rows: Array<IntradayRow> = []
  for (let day = Math.floor(from / DAY_MS) * DAY_MS; day < end; day += DAY_MS) {
    if (!isWeekday(day) || isFlatDay(symbol, day)) continue
    const open = Math.max(from, day + SESSION_OPEN_MS)
    const close = Math.min(end, day + SESSION_CLOSE_MS)
    for (const bar of barsBetween({ seed }, symbol, interval, open, close)) rows.push(toRow(venue, bar))
  }
  return rows
}

/** Weekly (ISO weeks from Monday) or monthly rows from daily ones, keyed by their first day. */
export const aggregateRows = (rows: ReadonlyArray<DailyRow>, period: "w" | "m"): Array<DailyRow> => {
  const keyOf = (ts: number): number => {
    const d = new Date(ts)
    return period === "m"
      ? Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1)
      : ts - ((d.getUTCDay() + 6) % 7) * DAY_MS
  }
  const groups = new Map<number, Array<DailyRow>>()
  for (const r of rows) {
    const group = groups.get(keyOf(r.ts))
    if (group) group.push(r)
    else groups.set(keyOf(r.ts), [r])
  }
  return [...groups.values()].map((g) => {
    const first = g[0]!
    const last = g[g.length - 1]!
    return {
      ts: first.ts,
      open: first.open,
      high: Math.max(...g.map((r) => r.high)),
      low: Math.min(...g.map((r) => r.low)),
      close: last.close,
      adjustedClose: last.adjustedClose,
      volume: round4(g.reduce((s, r) => s + r.volume, 0))
    }
  })
}

/** Ground truth: the bars the fake serves for `[from, to)` as a client should read them. */
export const servedBars = (
  seed: number,
  symbol: string,
  timeframe: Timeframe,
  from: number,
  to: number,
  now: number
): Array<ProviderBar> => {
  const plain = (r: DailyRow | IntradayRow): ProviderBar => ({
    ts: r.ts,
    open: r.open,
    high: r.high,
    low: r.low,
    close: r.close,
    volume: r.volume ?? 0
  })
  if (timeframe === "1d") return dailyRows(seed, symbol, from, to, now).map(plain)
  if (timeframe === "1m" || timeframe === "5m" || timeframe === "1h")
    return intradayRows(seed, symbol, timeframe, from, to, now).map(plain)
  return []
}
