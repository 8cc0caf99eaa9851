import { describe, expect, it } from "vitest"
import {
  DAY_MS,
  dailyParams,
  dailyWindows,
  INTRADAY_MAX_DAYS,
  intradayParams,
  intradayWindows,
  splitRange,
  type Window
} from "../../src/eodhd/ranges"

const contiguous = (windows: ReadonlyArray<Window>, from: number, to: number) => {
  expect(windows[0]?.from).toBe(from)
  expect(windows.at(-1)?.to).toBe(to)
  for (let i = 1; i < windows.length; i++) expect(windows[i]?.from).toBe(windows[i - 1]?.to)
}

describe("intraday windows", () => {
  const from = Date.UTC(2024, 0, 1)
  it.each([
    ["1m", 120],
    ["5m", 600],
    ["1h", 7_200]
  ] as const)("%s: at most %i days each, touching, covering the range", (interval, days) => {
    expect(INTRADAY_MAX_DAYS[interval]).toBe(days)
    const max = days * DAY_MS
    const to = from + 2 * max + 10 * DAY_MS
    const windows = intradayWindows(from, to, interval)
    expect(windows).toEqual([
      { from, to: from + max },
      { from: from + max, to: from + 2 * max },
      { from: from + 2 * max, to }
    ])
    contiguous(windows, from, to)
  })

  it("an exact multiple gives no empty tail; an empty range gives no window", () => {
    expect(intradayWindows(0, 240 * DAY_MS, "1m")).toHaveLength(2)
    expect(intradayWindows(0, 120 * DAY_MS + 60_000, "1m")).toHaveLength(2)
    expect(intradayWindows(5, 5, "1m")).toEqual([])
    expect(intradayWindows(9, 5, "1m")).toEqual([])
  })

  it("a 250-day 1m range needs 3 requests", () => {
    expect(intradayWindows(0, 250 * DAY_MS, "1m")).toHaveLength(3)
  })

  it("request seconds never exceed the maximum period and stay inside the window", () => {
    const w = { from: Date.UTC(2024, 0, 1), to: Date.UTC(2024, 0, 1) + 120 * DAY_MS }
    const p = intradayParams(w)
    expect(Number(p.from)).toBe(w.from / 1000)
    expect(Number(p.to)).toBe(w.to / 1000 - 1)
    expect(Number(p.to) - Number(p.from)).toBeLessThanOrEqual(120 * 86_400)
    const odd = intradayParams({ from: 1_500, to: 2_500 })
    expect(odd).toEqual({ from: "1", to: "2" })
  })

  it("rejects a non-positive window length", () => {
    expect(() => splitRange(0, 10, 0)).toThrow(RangeError)
  })
})

describe("daily windows", () => {
  it("splits into ten-year windows and asks for inclusive dates", () => {
    const from = Date.UTC(2000, 0, 1)
    const to = Date.UTC(2025, 0, 1)
    const windows = dailyWindows(from, to)
    expect(windows).toHaveLength(3)
    contiguous(windows, from, to)
    expect(dailyParams({ from: Date.UTC(2024, 0, 1), to: Date.UTC(2024, 0, 8) })).toEqual({
      from: "2024-01-01",
      to: "2024-01-07"
    })
    expect(dailyParams({ from: Date.UTC(2024, 0, 1, 5), to: Date.UTC(2024, 0, 8, 5) })).toEqual({
      from: "2024-01-02",
      to: "2024-01-08"
    })
  })
})
