import { expect, layer } from "@effect/vitest"
import type { BarPoint } from "@quasar/domain"
import { TestService } from "@quasar/server/testing"
import { Effect } from "effect"
import type { BarRow } from "../../src/store/BarWriter"
import { DataHubAlone } from "../../src/testing/DataHubAlone"
import { allPages, get, iso, page, ready, seed, series } from "./http"
import { bars, MINUTE, T0 } from "./support"

const DAY = 1_440 * MINUTE

/** What a resampled bucket must be, computed here from the stored rows. */
const bucketOf = (rows: ReadonlyArray<BarRow>, open: number): BarPoint => {
  const volume = rows.reduce((s, r) => s + r.volume, 0)
  const withVwap = rows.every((r) => r.vwap != null)
  return {
    ts: iso(open),
    open: rows[0]!.open,
    high: Math.max(...rows.map((r) => r.high)),
    low: Math.min(...rows.map((r) => r.low)),
    close: rows.at(-1)!.close,
    volume,
    vwap: withVwap && volume > 0 ? rows.reduce((s, r) => s + r.vwap! * r.volume, 0) / volume : null,
    trades: rows.every((r) => r.trades != null) ? rows.reduce((s, r) => s + r.trades!, 0) : null
  }
}

const closeTo = (actual: ReadonlyArray<BarPoint>, expected: ReadonlyArray<BarPoint>) => {
  expect(actual.map((b) => b.ts)).toEqual(expected.map((b) => b.ts))
  actual.forEach((b, i) => {
    const e = expected[i]!
    expect({ ...b, vwap: null, volume: 0 }).toEqual({ ...e, vwap: null, volume: 0 })
    expect(b.volume).toBeCloseTo(e.volume, 9)
    if (e.vwap === null) expect(b.vwap).toBeNull()
    else expect(b.vwap).toBeCloseTo(e.vwap, 9)
  })
}

layer(TestService.layer(DataHubAlone), { timeout: 120_000, excludeTestServices: true })(
  "GET /bars?resample=",
  (it) => {
    it.effect("resamples 1m bars to 1h like a hand computation, partial buckets included, paged", () =>
      Effect.gen(function* () {
        yield* ready
        // 03:30 → 07:15: the first and the last hour are partial; one bar lacks vwap in hour 05.
        const start = T0 + 3.5 * 60 * MINUTE
        const rows = bars("RES", 225, { start }).map((r) =>
          r.ts === T0 + 5 * 60 * MINUTE + 17 * MINUTE ? { ...r, vwap: null } : r
        )
        yield* seed("historical", rows)
        const hours = [3, 4, 5, 6, 7].map((h) => T0 + h * 60 * MINUTE)
        const expected = hours.map((open) =>
          bucketOf(
            rows.filter((r) => r.ts >= open && r.ts < open + 60 * MINUTE),
            open
          )
        )
        expect(expected[2]!.vwap).toBeNull()
        const whole = yield* page({ ...series, symbol: "RES", resample: "1h" })
        expect(whole.timeframe).toBe("1h")
        closeTo(whole.bars, expected)
        const paged = yield* allPages({ ...series, symbol: "RES", resample: "1h", limit: "2" })
        expect(paged.pages).toBe(3)
        closeTo(paged.bars, expected)
        // from inside a bucket: that bucket is built from the bars at or after from.
        const cut = yield* page({
          ...series,
          symbol: "RES",
          resample: "1h",
          from: iso(hours[1]! + 30 * MINUTE)
        })
        closeTo(
          cut.bars,
          expected.slice(1).map((b, i) =>
            i === 0
              ? bucketOf(
                  rows.filter((r) => r.ts >= hours[1]! + 30 * MINUTE && r.ts < hours[2]!),
                  hours[1]!
                )
              : b
          )
        )
        const csv = yield* Effect.flatMap(
          get({ ...series, symbol: "RES", resample: "1h", format: "csv" }),
          (r) => r.text
        )
        expect(
          csv
            .split("\n")
            .slice(1, -1)
            .map((l) => l.split(",")[0])
        ).toEqual(expected.map((b) => b.ts))
      })
    )

    it.effect("rounds volume and vwap to 12 significant digits, so float noise does not show", () =>
      Effect.gen(function* () {
        const vwaps = [3219.7, 3219.8, 3219.75, 3219.71]
        const volumes = [0.1, 0.7, 0.3, 0.2]
        const rows = bars("NOISE", 4).map((r, i) => ({
          ...r,
          open: 3219,
          high: 3221,
          low: 3218,
          close: 3220,
          vwap: vwaps[i]!,
          volume: volumes[i]!
        }))
        yield* seed("historical", rows)
        // What summing these floats in row order gives, as PostgreSQL does before rounding.
        let weighted = 0
        let volume = 0
        for (const r of rows) {
          weighted += r.vwap * r.volume
          volume += r.volume
        }
        const rounded = (x: number) => Number(x.toPrecision(12))
        expect(volume).not.toBe(rounded(volume))
        expect(weighted / volume).not.toBe(rounded(weighted / volume))
        const [bucket] = (yield* page({ ...series, symbol: "NOISE", resample: "1h" })).bars
        expect(bucket).toMatchObject({
          volume: 1.3,
          vwap: rounded(weighted / volume),
          open: 3219,
          close: 3220
        })
        expect(String(bucket?.vwap)).toBe("3219.76692308")
        const csv = yield* Effect.flatMap(
          get({ ...series, symbol: "NOISE", resample: "1h", format: "csv" }),
          (r) => r.text
        )
        expect(csv.split("\n")[1]).toBe(`${iso(T0)},3219,3221,3218,3220,1.3,3219.76692308,${0 + 1 + 2 + 3}`)
      })
    )

    it.effect("resamples daily bars into weeks that open on Monday 00:00 UTC", () =>
      Effect.gen(function* () {
        // Wednesday 2024-01-03 for 20 days: weeks of Jan 1 (partial), 8, 15 and 22 (partial).
        const rows = bars("WEEK", 20, { timeframe: "1d", start: T0 + 2 * DAY, step: DAY })
        yield* seed("historical", rows)
        const weeks = [0, 7, 14, 21].map((d) => T0 + d * DAY)
        const p = yield* page({ provider: "test", timeframe: "1d", symbol: "WEEK", resample: "1w" })
        closeTo(
          p.bars,
          weeks.map((open) =>
            bucketOf(
              rows.filter((r) => r.ts >= open && r.ts < open + 7 * DAY),
              open
            )
          )
        )
      })
    )
  }
)
