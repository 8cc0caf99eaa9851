/**
 * How the fake EODHD writes rows: JSON with EODHD's field names (eodhd.com/financial-apis) or, when
 * `fmt=json` is absent, CSV — EODHD's default output.
 */
import type { DailyRow, IntradayRow } from "./marketData"

export type Format = "json" | "csv"

type Cell = string | number | null

const cell = (v: Cell): string => {
  if (v === null) return ""
  const s = String(v)
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

export const toCsv = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<Cell>>): string =>
  [header, ...rows].map((r) => r.map(cell).join(",")).join("\n") + "\n"

const isoDate = (ts: number): string => new Date(ts).toISOString().slice(0, 10)
const isoDateTime = (ts: number): string => new Date(ts).toISOString().slice(0, 19).replace("T", " ")

export const renderDaily = (rows: ReadonlyArray<DailyRow>, format: Format): string =>
  format === "json"
    ? JSON.stringify(
        rows.map((r) => ({
          date: isoDate(r.ts),
          open: r.open,
          high: r.high,
          low: r.low,
          close: r.close,
          adjusted_close: r.adjustedClose,
          volume: r.volume
        }))
      )
    : toCsv(
        ["Date", "Open", "High", "Low", "Close", "Adjusted_close", "Volume"],
        rows.map((r) => [isoDate(r.ts), r.open, r.high, r.low, r.close, r.adjustedClose, r.volume])
      )

export const renderIntraday = (rows: ReadonlyArray<IntradayRow>, format: Format): string =>
  format === "json"
    ? JSON.stringify(
        rows.map((r) => ({
          timestamp: r.ts / 1000,
          gmtoffset: 0,
          datetime: isoDateTime(r.ts),
          open: r.open,
          high: r.high,
          low: r.low,
          close: r.close,
          volume: r.volume
        }))
      )
    : toCsv(
        ["Timestamp", "Gmtoffset", "Datetime", "Open", "High", "Low", "Close", "Volume"],
        rows.map((r) => [r.ts / 1000, 0, isoDateTime(r.ts), r.open, r.high, r.low, r.close, r.volume])
      )

/** Objects of one shape (symbol list, exchanges list) as JSON or CSV with their keys as header. */
export const renderObjects = <T extends object>(rows: ReadonlyArray<T>, format: Format): string => {
  if (format === "json") return JSON.stringify(rows)
  const header = rows[0] ? Object.keys(rows[0]) : []
  const values = rows.map((r) =>
    Object.values(r).map((v): Cell => (typeof v === "number" ? v : v === null ? null : String(v)))
  )
  return toCsv(header, values)
}
