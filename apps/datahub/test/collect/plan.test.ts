import { describe, expect, it } from "@effect/vitest"
import * as Plan from "../../src/collect/Plan"

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR
/** Wednesday 2025-06-11 15:07:30 UTC. */
const NOW = Date.UTC(2025, 5, 11, 15, 7, 30)

describe("collection arithmetic", () => {
  it("asks only for bars that have closed and been published", () => {
    // 1m, no delay, 2 s margin: the 15:06 bar closed at 15:07:00 and may be asked for.
    expect(Plan.availableUntil("1m", NOW, 0, 2_000)).toBe(Date.UTC(2025, 5, 11, 15, 7))
    // Just after a close, the margin holds the bar back until it is safely final.
    expect(Plan.availableUntil("1m", Date.UTC(2025, 5, 11, 15, 7, 1), 0, 2_000)).toBe(
      Date.UTC(2025, 5, 11, 15, 6)
    )
    // EODHD-style daily bars published 3 h after the UTC day: at 02:00 yesterday's is not there yet.
    expect(Plan.availableUntil("1d", Date.UTC(2025, 5, 12, 2), 3 * HOUR, 2_000)).toBe(Date.UTC(2025, 5, 11))
    expect(Plan.availableUntil("1d", Date.UTC(2025, 5, 12, 3, 1), 3 * HOUR, 2_000)).toBe(
      Date.UTC(2025, 5, 12)
    )
    // Weekly bars open on Mondays.
    expect(Plan.availableUntil("1w", NOW, 0, 0)).toBe(Date.UTC(2025, 5, 9))
  })

  it("schedules the next run when the next bar is published", () => {
    const until = Plan.availableUntil("5m", NOW, 0, 2_000)
    expect(Plan.nextRunAt("5m", until, 0, 2_000)).toBe(Date.UTC(2025, 5, 11, 15, 10, 2))
    const daily = Plan.availableUntil("1d", NOW, 3 * HOUR, 2_000)
    expect(Plan.nextRunAt("1d", daily, 3 * HOUR, 2_000)).toBe(Date.UTC(2025, 5, 12, 3, 0, 2))
  })

  it("bounds a run and measures progress", () => {
    expect(Plan.runRange("1m", 0, 10 * DAY, 1_000)).toEqual({ from: 0, to: 1_000 * MINUTE })
    expect(Plan.runRange("1h", 0, 5 * HOUR, 1_000)).toEqual({ from: 0, to: 5 * HOUR })
    expect(Plan.progressPercent(0, 25, 100)).toBe(25)
    expect(Plan.progressPercent(0, 200, 100)).toBe(100)
    expect(Plan.progressPercent(100, 100, 100)).toBe(100)
  })

  it("defaults the backfill by timeframe and aligns starts up", () => {
    expect(NOW - Plan.defaultBackfillFrom("1m", NOW)).toBeGreaterThanOrEqual(30 * DAY)
    expect(Plan.defaultBackfillFrom("1d", NOW)).toBe(Date.UTC(2023, 5, 12))
    expect(Plan.alignUp("1h", Date.UTC(2025, 0, 1, 10, 30))).toBe(Date.UTC(2025, 0, 1, 11))
    expect(Plan.alignUp("1h", Date.UTC(2025, 0, 1, 10))).toBe(Date.UTC(2025, 0, 1, 10))
  })

  it("finds the holes a provider skipped before each bar it answered", () => {
    expect(Plan.holesBefore("1m", -MINUTE, [0, MINUTE, 5 * MINUTE, 6 * MINUTE])).toEqual([
      { from: 2 * MINUTE, to: 5 * MINUTE }
    ])
    expect(Plan.holesBefore("1m", -MINUTE, [3 * MINUTE])).toEqual([{ from: 0, to: 3 * MINUTE }])
    expect(Plan.holesBefore("1m", 0, [])).toEqual([])
  })

  it("waits longer after each consecutive failed run, up to a cap", () => {
    expect([1, 2, 3, 4, 10].map((n) => Plan.failureDelayMs(1_000, n, 5_000))).toEqual([
      1_000, 2_000, 4_000, 5_000, 5_000
    ])
  })
})
