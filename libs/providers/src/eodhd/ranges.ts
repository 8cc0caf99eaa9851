/**
 * Splitting a history range into the windows one EODHD request may cover, and turning a window
 * into the request's `from`/`to` parameters. Windows are half-open `[from, to)` in epoch ms;
 * consecutive windows touch (no gap, no overlap).
 */

export const DAY_MS = 86_400_000

export type IntradayInterval = "1m" | "5m" | "1h"

/**
 * Maximum period per intraday request: 1m → 120 days, 5m → 600 days, 1h → 7200 days
 * (eodhd.com/financial-apis/intraday-historical-data-api). A longer one is refused with
 * `{"errors":{"to":["Max period length is 120 days"],…}}`.
 */
export const INTRADAY_MAX_DAYS: Readonly<Record<IntradayInterval, number>> = {
  "1m": 120,
  "5m": 600,
  "1h": 7_200
}

/**
 * `/eod` has no documented range limit; ten years per request keeps a page a few thousand rows
 * and lets a long backfill report progress. Our choice, not EODHD's.
 */
export const DAILY_WINDOW_DAYS = 3_650

export interface Window {
  readonly from: number
  readonly to: number
}

export const alignUp = (t: number, step: number): number => Math.ceil(t / step) * step
export const alignDown = (t: number, step: number): number => Math.floor(t / step) * step

/** Consecutive windows covering `[from, to)`, each at most `maxMs` long; none when empty. */
export const splitRange = (from: number, to: number, maxMs: number): Array<Window> => {
  if (!(maxMs > 0)) throw new RangeError(`window length must be positive, got ${maxMs}`)
  const windows: Array<Window> = []
  for (let start = from; start < to; start += maxMs)
    windows.push({ from: start, to: Math.min(start + maxMs, to) })
  return windows
}

export const intradayWindows = (from: number, to: number, interval: IntradayInterval): Array<Window> =>
  splitRange(from, to, INTRADAY_MAX_DAYS[interval] * DAY_MS)

export const dailyWindows = (from: number, to: number): Array<Window> =>
  splitRange(from, to, DAILY_WINDOW_DAYS * DAY_MS)

/**
 * Intraday `from`/`to` are unix seconds, UTC. `to` is sent as the last whole second inside the
 * window so the request asks for bars opening in `[from, to)` whether EODHD treats `to` as
 * inclusive or not, and `to - from` never exceeds the maximum period.
 */
export const intradayParams = (w: Window): { from: string; to: string } => ({
  from: String(Math.floor(w.from / 1000)),
  to: String(Math.ceil(w.to / 1000) - 1)
})

export const isoDate = (ms: number): string => new Date(ms).toISOString().slice(0, 10)

/** `/eod` takes inclusive `YYYY-MM-DD` dates: the first and the last day opening in the window. */
export const dailyParams = (w: Window): { from: string; to: string } => ({
  from: isoDate(alignUp(w.from, DAY_MS)),
  to: isoDate(alignUp(w.to, DAY_MS) - DAY_MS)
})
