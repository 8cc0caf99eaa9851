import type { BarPoint } from "@quasar/domain"
import { describe, expect, it } from "vitest"
import { CHART_TARGET_BARS, chartTimeframe, chartTimeframes } from "../src/bars/chartTimeframe"
import { addLive, addStored, bucketBar, type LiveBucket } from "../src/bars/liveBucket"

const MINUTE = 60_000
const DAY = 1_440 * MINUTE
const T0 = Date.UTC(2024, 0, 1)

describe("chartTimeframe", () => {
  it("keeps the stored timeframe while the range fits, else the smallest multiple that does", () => {
    expect(chartTimeframe("1m", 6 * 60 * MINUTE)).toBe("1m")
    expect(chartTimeframe("1m", DAY)).toBe("1m")
    // A week of 1-minute bars is 10,080: 15m makes 672.
    expect(chartTimeframe("1m", 7 * DAY)).toBe("15m")
    expect(chartTimeframe("1m", 30 * DAY)).toBe("30m")
    expect(chartTimeframe("1m", 365 * DAY)).toBe("1d")
    expect(chartTimeframe("1d", 3_650 * DAY)).toBe("1w")
    // Nothing is large enough: the largest there is.
    expect(chartTimeframe("1m", 100_000 * DAY)).toBe("1w")
    expect((7 * DAY) / (15 * MINUTE)).toBeLessThanOrEqual(CHART_TARGET_BARS)
  })

  it("offers the stored timeframe and its whole multiples", () => {
    expect(chartTimeframes("1h")).toEqual(["1h", "4h", "1d", "1w"])
    expect(chartTimeframes("1w")).toEqual(["1w"])
  })
})

const bar = (minute: number, values: Partial<BarPoint> = {}): BarPoint => ({
  ts: new Date(T0 + minute * MINUTE).toISOString(),
  open: 10,
  high: 12,
  low: 9,
  close: 11,
  volume: 1,
  vwap: 10.5,
  trades: 2,
  ...values
})

describe("liveBucket", () => {
  it("aggregates the bucket's bars like DataHub's resampling, a forming bar replacing its earlier version", () => {
    let bucket: LiveBucket | null = null
    bucket = addLive(
      bucket,
      bar(16, { open: 20, close: 21, high: 22, low: 19, volume: 0.1, vwap: 3219.7 }),
      "15m"
    )
    bucket = addLive(bucket, bar(17, { close: 5, low: 4, volume: 0.7, vwap: 3219.8 }), "15m")
    bucket = addLive(bucket, bar(17, { close: 6, low: 5, volume: 0.7, vwap: 3219.8 }), "15m")
    expect(bucket?.bars.size).toBe(2)
    expect(bucket && bucketBar(bucket)).toEqual({
      ts: new Date(T0 + 15 * MINUTE).toISOString(),
      open: 20,
      high: 22,
      low: 5,
      close: 6,
      volume: 0.8,
      vwap: Number(((3219.7 * 0.1 + 3219.8 * 0.7) / 0.8).toPrecision(12)),
      trades: 4
    })
  })

  it("fills in the stored bars before the live ones, never over them", () => {
    const live = addLive(null, bar(20, { close: 99 }), "15m")
    if (live === null) throw new Error("a bucket")
    const filled = addStored(live, [bar(14), bar(15, { open: 1 }), bar(20, { close: 1 })])
    expect([...filled.bars.keys()].sort()).toEqual([T0 + 15 * MINUTE, T0 + 20 * MINUTE])
    expect(bucketBar(filled)).toMatchObject({ open: 1, close: 99 })
  })

  it("starts over with a newer bucket and ignores bars of an older one", () => {
    const first = addLive(null, bar(29), "15m")
    const next = addLive(first, bar(30, { open: 7 }), "15m")
    expect(next?.open).toBe(T0 + 30 * MINUTE)
    expect(next && bucketBar(next)).toMatchObject({ open: 7, volume: 1 })
    expect(addLive(next, bar(29), "15m")).toBe(next)
  })

  it("leaves vwap and trades null when a bar lacks them, vwap also without volume", () => {
    const bucket = addLive(addLive(null, bar(0, { trades: null }), "1h"), bar(1, { vwap: null }), "1h")
    expect(bucket && bucketBar(bucket)).toMatchObject({ vwap: null, trades: null })
    const still = addLive(null, bar(0, { volume: 0 }), "1h")
    expect(still && bucketBar(still)).toMatchObject({ volume: 0, vwap: null })
  })
})
