import { describe, expect, it } from "@effect/vitest"
import { Either, ParseResult, Schema } from "effect"
import {
  barClose,
  barOpen,
  divides,
  durationMs,
  format,
  isAligned,
  isClosed,
  minutes,
  opensBetween,
  parse,
  type Timeframe,
  TimeframeFromString,
  timeframes
} from "../src/Timeframe"

const at = (iso: string): number => {
  const ms = Date.parse(iso)
  if (Number.isNaN(ms)) throw new Error(`bad test instant ${iso}`)
  return ms
}
const iso = (ms: number): string => new Date(ms).toISOString()

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

const expectedMs: Record<Timeframe, number> = {
  "1m": MINUTE,
  "5m": 5 * MINUTE,
  "15m": 15 * MINUTE,
  "30m": 30 * MINUTE,
  "1h": HOUR,
  "4h": 4 * HOUR,
  "1d": DAY,
  "1w": 7 * DAY
}

/** For one instant, the open and close of the containing bar in every timeframe (ISO, UTC). */
const bars = (instant: string) =>
  Object.fromEntries(
    timeframes.map((tf) => [tf, [iso(barOpen(tf, at(instant))), iso(barClose(tf, at(instant)))]])
  )

describe("Timeframe.parse", () => {
  it.each(timeframes)("accepts the canonical name %s", (tf) => {
    expect(parse(tf)).toEqual(Either.right(tf))
  })

  it.each([
    ["1M", "1m"],
    ["5M", "5m"],
    ["15M", "15m"],
    ["30M", "30m"],
    ["1H", "1h"],
    ["4H", "4h"],
    ["1D", "1d"],
    ["1W", "1w"],
    ["  1h  ", "1h"],
    ["\t1d\n", "1d"]
  ])("is case-insensitive and trims: %j ⇒ %s", (input, tf) => {
    expect(parse(input)).toEqual(Either.right(tf))
  })

  it.each([
    ["1min", "1m"],
    ["5min", "5m"],
    ["15MIN", "15m"],
    ["30min", "30m"],
    ["60m", "1h"],
    ["1hour", "1h"],
    ["240m", "4h"],
    ["4Hour", "4h"],
    ["1day", "1d"],
    ["d", "1d"],
    ["Daily", "1d"],
    ["1week", "1w"],
    ["W", "1w"],
    ["weekly", "1w"]
  ])("accepts the alias %j as %s", (input, tf) => {
    expect(parse(input)).toEqual(Either.right(tf))
  })

  it.each(["", "2h", "1y", "1mo", "monthly", "m", "1 m", "60", "toString", "hasOwnProperty"])(
    "rejects %j with a message listing the valid timeframes",
    (input) => {
      const result = parse(input)
      expect(Either.isLeft(result)).toBe(true)
      const message = Either.getLeft(result).pipe((o) => (o._tag === "Some" ? o.value : ""))
      expect(message).toContain(`"${input}"`)
      expect(message).toContain("unknown timeframe")
      for (const tf of timeframes) expect(message).toContain(tf)
    }
  )
})

describe("Timeframe.parse and inherited object keys", () => {
  // The alias table is a plain object: a lookup must not find Object.prototype's members.
  it.each(["constructor", "__proto__"])(
    "rejects %j instead of returning an Object.prototype member",
    (input) => {
      const result = parse(input)
      expect(Either.isLeft(result)).toBe(true)
      expect(Either.getLeft(result).pipe((o) => (o._tag === "Some" ? o.value : ""))).toContain(
        "unknown timeframe"
      )
    }
  )

  it.each(["constructor", "__proto__"])("TimeframeFromString rejects %j", (input) => {
    expect(Either.isLeft(Schema.decodeUnknownEither(TimeframeFromString)(input))).toBe(true)
  })
})

describe("Timeframe.format", () => {
  it.each(timeframes)("formats %s canonically and round-trips through parse", (tf) => {
    expect(format(tf)).toBe(tf)
    expect(parse(format(tf))).toEqual(Either.right(tf))
    expect(parse(format(tf).toUpperCase())).toEqual(Either.right(tf))
  })
})

describe("Timeframe durations", () => {
  it.each(timeframes)("%s has the right length in ms and minutes", (tf) => {
    expect(durationMs(tf)).toBe(expectedMs[tf])
    expect(minutes(tf)).toBe(expectedMs[tf] / MINUTE)
  })

  it("minutes are Kraken's OHLC intervals", () => {
    expect(timeframes.map(minutes)).toEqual([1, 5, 15, 30, 60, 240, 1440, 10080])
  })
})

describe("Timeframe.barOpen / barClose", () => {
  it("places an ordinary instant in every timeframe", () => {
    expect(bars("2024-05-15T13:47:23.456Z")).toEqual({
      "1m": ["2024-05-15T13:47:00.000Z", "2024-05-15T13:48:00.000Z"],
      "5m": ["2024-05-15T13:45:00.000Z", "2024-05-15T13:50:00.000Z"],
      "15m": ["2024-05-15T13:45:00.000Z", "2024-05-15T14:00:00.000Z"],
      "30m": ["2024-05-15T13:30:00.000Z", "2024-05-15T14:00:00.000Z"],
      "1h": ["2024-05-15T13:00:00.000Z", "2024-05-15T14:00:00.000Z"],
      "4h": ["2024-05-15T12:00:00.000Z", "2024-05-15T16:00:00.000Z"],
      "1d": ["2024-05-15T00:00:00.000Z", "2024-05-16T00:00:00.000Z"],
      // 2024-05-15 is a Wednesday.
      "1w": ["2024-05-13T00:00:00.000Z", "2024-05-20T00:00:00.000Z"]
    })
  })

  it("closes the last bar of a year exactly at the new year (year boundary)", () => {
    expect(bars("2023-12-31T23:59:59.999Z")).toEqual({
      "1m": ["2023-12-31T23:59:00.000Z", "2024-01-01T00:00:00.000Z"],
      "5m": ["2023-12-31T23:55:00.000Z", "2024-01-01T00:00:00.000Z"],
      "15m": ["2023-12-31T23:45:00.000Z", "2024-01-01T00:00:00.000Z"],
      "30m": ["2023-12-31T23:30:00.000Z", "2024-01-01T00:00:00.000Z"],
      "1h": ["2023-12-31T23:00:00.000Z", "2024-01-01T00:00:00.000Z"],
      "4h": ["2023-12-31T20:00:00.000Z", "2024-01-01T00:00:00.000Z"],
      "1d": ["2023-12-31T00:00:00.000Z", "2024-01-01T00:00:00.000Z"],
      // 2023-12-31 is a Sunday: the week opened on Monday 12-25 and closes on Monday 2024-01-01.
      "1w": ["2023-12-25T00:00:00.000Z", "2024-01-01T00:00:00.000Z"]
    })
  })

  it("opens the first bar of a year exactly at the new year", () => {
    for (const tf of timeframes) {
      expect(iso(barOpen(tf, at("2024-01-01T00:00:00.000Z")))).toBe("2024-01-01T00:00:00.000Z")
      expect(isAligned(tf, at("2024-01-01T00:00:00.000Z"))).toBe(true)
    }
  })

  it("crosses month boundaries (30-, 31-day months)", () => {
    expect(iso(barClose("1d", at("2024-04-30T12:00:00Z")))).toBe("2024-05-01T00:00:00.000Z")
    expect(iso(barClose("1d", at("2024-01-31T23:59:59Z")))).toBe("2024-02-01T00:00:00.000Z")
    expect(iso(barClose("4h", at("2024-03-31T22:00:00Z")))).toBe("2024-04-01T00:00:00.000Z")
    expect(iso(barOpen("1m", at("2024-07-01T00:00:30Z")))).toBe("2024-07-01T00:00:00.000Z")
    expect(iso(barOpen("1m", at("2024-06-30T23:59:30Z")))).toBe("2024-06-30T23:59:00.000Z")
    // A week spanning two months: Monday 2024-07-29 … Sunday 2024-08-04.
    expect(iso(barOpen("1w", at("2024-08-04T23:59:59Z")))).toBe("2024-07-29T00:00:00.000Z")
    expect(iso(barClose("1w", at("2024-08-01T00:00:00Z")))).toBe("2024-08-05T00:00:00.000Z")
  })

  describe("leap years", () => {
    it("2024 is a leap year: 2024-02-28 → 02-29 → 03-01", () => {
      expect(iso(barClose("1d", at("2024-02-28T12:00:00Z")))).toBe("2024-02-29T00:00:00.000Z")
      expect(iso(barOpen("1d", at("2024-02-29T23:59:59.999Z")))).toBe("2024-02-29T00:00:00.000Z")
      expect(iso(barClose("1d", at("2024-02-29T00:00:00Z")))).toBe("2024-03-01T00:00:00.000Z")
      expect(iso(barClose("4h", at("2024-02-29T21:00:00Z")))).toBe("2024-03-01T00:00:00.000Z")
      expect(opensBetween("1d", at("2024-02-27T00:00:00Z"), at("2024-03-02T00:00:00Z")).map(iso)).toEqual([
        "2024-02-27T00:00:00.000Z",
        "2024-02-28T00:00:00.000Z",
        "2024-02-29T00:00:00.000Z",
        "2024-03-01T00:00:00.000Z"
      ])
      // The week of Monday 2024-02-26 contains the 29th and closes Monday 2024-03-04.
      expect(iso(barOpen("1w", at("2024-02-29T12:00:00Z")))).toBe("2024-02-26T00:00:00.000Z")
      expect(iso(barClose("1w", at("2024-02-29T12:00:00Z")))).toBe("2024-03-04T00:00:00.000Z")
    })

    it("2023 is not: 2023-02-28 → 03-01", () => {
      expect(iso(barClose("1d", at("2023-02-28T00:00:00Z")))).toBe("2023-03-01T00:00:00.000Z")
      expect(iso(barClose("1h", at("2023-02-28T23:30:00Z")))).toBe("2023-03-01T00:00:00.000Z")
      expect(opensBetween("1d", at("2023-02-27T00:00:00Z"), at("2023-03-02T00:00:00Z")).map(iso)).toEqual([
        "2023-02-27T00:00:00.000Z",
        "2023-02-28T00:00:00.000Z",
        "2023-03-01T00:00:00.000Z"
      ])
    })

    it("2000 is a leap year (divisible by 400), 2100 is not (divisible by 100)", () => {
      expect(opensBetween("1d", at("2000-02-28T00:00:00Z"), at("2000-03-01T00:00:00Z")).map(iso)).toEqual([
        "2000-02-28T00:00:00.000Z",
        "2000-02-29T00:00:00.000Z"
      ])
      expect(iso(barClose("1d", at("2000-02-28T06:00:00Z")))).toBe("2000-02-29T00:00:00.000Z")
      expect(opensBetween("1d", at("2100-02-28T00:00:00Z"), at("2100-03-01T00:00:00Z")).map(iso)).toEqual([
        "2100-02-28T00:00:00.000Z"
      ])
      expect(iso(barClose("1d", at("2100-02-28T06:00:00Z")))).toBe("2100-03-01T00:00:00.000Z")
      // A whole leap year has 366 daily bars, a common year 365; 2000 has 366, 2100 has 365.
      const days = (y: number) =>
        opensBetween("1d", at(`${y}-01-01T00:00:00Z`), at(`${y + 1}-01-01T00:00:00Z`)).length
      expect([2023, 2024, 2000, 2100].map(days)).toEqual([365, 366, 366, 365])
      expect(opensBetween("1h", at("2024-02-29T00:00:00Z"), at("2024-03-01T00:00:00Z"))).toHaveLength(24)
    })
  })

  describe("weekly bars open on Monday 00:00 UTC", () => {
    it("the week of Monday 2024-12-30 contains 2025-01-01 (year boundary)", () => {
      for (const instant of [
        "2024-12-30T00:00:00.000Z",
        "2024-12-31T23:59:59.999Z",
        "2025-01-01T00:00:00.000Z",
        "2025-01-01T12:34:56.000Z",
        "2025-01-05T23:59:59.999Z"
      ]) {
        expect(iso(barOpen("1w", at(instant)))).toBe("2024-12-30T00:00:00.000Z")
        expect(iso(barClose("1w", at(instant)))).toBe("2025-01-06T00:00:00.000Z")
      }
      expect(iso(barOpen("1w", at("2025-01-06T00:00:00.000Z")))).toBe("2025-01-06T00:00:00.000Z")
      expect(iso(barOpen("1w", at("2024-12-29T23:59:59.999Z")))).toBe("2024-12-23T00:00:00.000Z")
      expect(isAligned("1w", at("2024-12-30T00:00:00Z"))).toBe(true)
      expect(isAligned("1w", at("2025-01-01T00:00:00Z"))).toBe(false)
      expect(opensBetween("1w", at("2024-12-20T00:00:00Z"), at("2025-01-15T00:00:00Z")).map(iso)).toEqual([
        "2024-12-23T00:00:00.000Z",
        "2024-12-30T00:00:00.000Z",
        "2025-01-06T00:00:00.000Z",
        "2025-01-13T00:00:00.000Z"
      ])
    })

    it("every weekly open is a Monday at midnight, for instants across four centuries", () => {
      const start = at("1900-01-01T00:00:00Z")
      const end = at("2300-01-01T00:00:00Z")
      const step = 9_876_543_211 // ~114 days, coprime with weeks and days
      for (let t = start; t < end; t += step) {
        const open = new Date(barOpen("1w", t))
        expect(open.getUTCDay()).toBe(1)
        expect([
          open.getUTCHours(),
          open.getUTCMinutes(),
          open.getUTCSeconds(),
          open.getUTCMilliseconds()
        ]).toEqual([0, 0, 0, 0])
        expect(barOpen("1w", t)).toBeLessThanOrEqual(t)
        expect(t).toBeLessThan(barClose("1w", t))
      }
    })
  })

  describe("negative epochs (before 1970)", () => {
    it("rounds down, not toward zero", () => {
      expect(barOpen("1m", -1)).toBe(-MINUTE)
      expect(barClose("1m", -1)).toBe(0)
      expect(barOpen("1h", -1)).toBe(-HOUR)
      expect(barOpen("1d", -1)).toBe(-DAY)
      expect(barOpen("1d", -DAY)).toBe(-DAY)
      expect(barOpen("1d", -DAY - 1)).toBe(-2 * DAY)
    })

    it("places instants before 1970 in every timeframe", () => {
      // 1969-07-20 (a Sunday), Apollo 11 landing.
      expect(bars("1969-07-20T20:17:40.000Z")).toEqual({
        "1m": ["1969-07-20T20:17:00.000Z", "1969-07-20T20:18:00.000Z"],
        "5m": ["1969-07-20T20:15:00.000Z", "1969-07-20T20:20:00.000Z"],
        "15m": ["1969-07-20T20:15:00.000Z", "1969-07-20T20:30:00.000Z"],
        "30m": ["1969-07-20T20:00:00.000Z", "1969-07-20T20:30:00.000Z"],
        "1h": ["1969-07-20T20:00:00.000Z", "1969-07-20T21:00:00.000Z"],
        "4h": ["1969-07-20T20:00:00.000Z", "1969-07-21T00:00:00.000Z"],
        "1d": ["1969-07-20T00:00:00.000Z", "1969-07-21T00:00:00.000Z"],
        "1w": ["1969-07-14T00:00:00.000Z", "1969-07-21T00:00:00.000Z"]
      })
    })

    it("the week containing the epoch opened on Monday 1969-12-29", () => {
      expect(iso(barOpen("1w", 0))).toBe("1969-12-29T00:00:00.000Z")
      expect(iso(barClose("1w", 0))).toBe("1970-01-05T00:00:00.000Z")
      expect(iso(barOpen("1w", -1))).toBe("1969-12-29T00:00:00.000Z")
      expect(isAligned("1w", 0)).toBe(false)
      expect(isAligned("1w", at("1969-12-29T00:00:00Z"))).toBe(true)
      // 1900-01-01 was a Monday.
      expect(iso(barOpen("1w", at("1900-01-03T10:00:00Z")))).toBe("1900-01-01T00:00:00.000Z")
    })

    it("handles 1900, not a leap year, before the epoch", () => {
      expect(iso(barClose("1d", at("1900-02-28T00:00:00Z")))).toBe("1900-03-01T00:00:00.000Z")
      expect(opensBetween("1d", at("1900-02-27T00:00:00Z"), at("1900-03-02T00:00:00Z")).map(iso)).toEqual([
        "1900-02-27T00:00:00.000Z",
        "1900-02-28T00:00:00.000Z",
        "1900-03-01T00:00:00.000Z"
      ])
    })

    it("lists opens across the epoch", () => {
      expect(opensBetween("1h", -2 * HOUR - 1, 2 * HOUR)).toEqual([-2 * HOUR, -HOUR, 0, HOUR])
      expect(opensBetween("1d", at("1969-12-30T12:00:00Z"), at("1970-01-02T00:00:01Z")).map(iso)).toEqual([
        "1969-12-31T00:00:00.000Z",
        "1970-01-01T00:00:00.000Z",
        "1970-01-02T00:00:00.000Z"
      ])
    })
  })

  it.each(timeframes)("%s: open ≤ t < close, close − open is one bar, and the open is aligned", (tf) => {
    const samples = [
      at("1950-06-15T07:08:09.010Z"),
      -1,
      0,
      1,
      at("2000-02-29T23:59:59.999Z"),
      at("2024-12-31T23:59:59.999Z"),
      at("2025-01-01T00:00:00.000Z"),
      at("2100-03-01T00:00:00.001Z")
    ]
    for (const t of samples) {
      const open = barOpen(tf, t)
      const close = barClose(tf, t)
      expect(open).toBeLessThanOrEqual(t)
      expect(t).toBeLessThan(close)
      expect(close - open).toBe(expectedMs[tf])
      expect(isAligned(tf, open)).toBe(true)
      expect(isAligned(tf, close)).toBe(true)
      expect(barOpen(tf, open)).toBe(open)
      expect(barOpen(tf, close)).toBe(close)
      expect(barOpen(tf, close - 1)).toBe(open)
    }
  })
})

describe("Timeframe.isAligned", () => {
  it.each(timeframes)("%s: bar opens are aligned, one millisecond either side is not", (tf) => {
    const open = barOpen(tf, at("2024-06-01T10:11:12.013Z"))
    expect(isAligned(tf, open)).toBe(true)
    expect(isAligned(tf, open + 1)).toBe(false)
    expect(isAligned(tf, open - 1)).toBe(false)
    expect(isAligned(tf, open + expectedMs[tf])).toBe(true)
    expect(isAligned(tf, open - expectedMs[tf])).toBe(true)
  })

  it("knows which grid each instant is on", () => {
    const t = at("2024-01-03T12:00:00Z") // a Wednesday noon
    expect(timeframes.filter((tf) => isAligned(tf, t))).toEqual(["1m", "5m", "15m", "30m", "1h", "4h"])
    const midnight = at("2024-01-03T00:00:00Z")
    expect(timeframes.filter((tf) => isAligned(tf, midnight))).toEqual([
      "1m",
      "5m",
      "15m",
      "30m",
      "1h",
      "4h",
      "1d"
    ])
    const monday = at("2024-01-01T00:00:00Z")
    expect(timeframes.filter((tf) => isAligned(tf, monday))).toEqual([...timeframes])
    expect(timeframes.filter((tf) => isAligned(tf, at("2024-01-01T00:05:00Z")))).toEqual(["1m", "5m"])
    expect(timeframes.filter((tf) => isAligned(tf, at("2024-01-01T00:00:30Z")))).toEqual([])
  })
})

describe("Timeframe.isClosed", () => {
  it.each(timeframes)("%s: closed exactly when its close time has been reached", (tf) => {
    const open = at("2024-02-26T00:00:00Z") // a Monday: aligned for every timeframe
    const close = open + expectedMs[tf]
    expect(isClosed(tf, open, open)).toBe(false)
    expect(isClosed(tf, open, close - 1)).toBe(false)
    expect(isClosed(tf, open, close)).toBe(true)
    expect(isClosed(tf, open, close + 1)).toBe(true)
  })

  it("a daily bar on a leap day closes at 03-01, a weekly bar before 1970 on the following Monday", () => {
    expect(isClosed("1d", at("2024-02-29T00:00:00Z"), at("2024-02-29T23:59:59.999Z"))).toBe(false)
    expect(isClosed("1d", at("2024-02-29T00:00:00Z"), at("2024-03-01T00:00:00Z"))).toBe(true)
    expect(isClosed("1w", at("1969-12-29T00:00:00Z"), at("1970-01-04T23:59:59.999Z"))).toBe(false)
    expect(isClosed("1w", at("1969-12-29T00:00:00Z"), at("1970-01-05T00:00:00Z"))).toBe(true)
  })
})

describe("Timeframe.opensBetween", () => {
  it.each(timeframes)("%s: every open in [from, to), aligned and one bar apart", (tf) => {
    const from = at("2024-12-27T13:14:15.016Z")
    const to = from + 10 * expectedMs[tf]
    const opens = opensBetween(tf, from, to)
    expect(opens).toHaveLength(10) // an unaligned `from` loses the partial first bar, gains one at the end
    expect(opens[0]).toBe(barClose(tf, from))
    for (const [i, t] of opens.entries()) {
      expect(isAligned(tf, t)).toBe(true)
      expect(t).toBeGreaterThanOrEqual(from)
      expect(t).toBeLessThan(to)
      if (i > 0) expect(t - (opens[i - 1] ?? Number.NaN)).toBe(expectedMs[tf])
    }
  })

  it.each(timeframes)("%s: an aligned `from` is included and `to` is excluded", (tf) => {
    const from = barOpen(tf, at("2024-12-27T13:14:15.016Z"))
    const to = from + 3 * expectedMs[tf]
    expect(opensBetween(tf, from, to)).toEqual([from, from + expectedMs[tf], from + 2 * expectedMs[tf]])
    expect(opensBetween(tf, from, to + 1)).toHaveLength(4)
  })

  it.each(timeframes)("%s: empty ranges give no opens", (tf) => {
    const t = barOpen(tf, at("2024-01-01T00:00:00Z"))
    expect(opensBetween(tf, t, t)).toEqual([])
    expect(opensBetween(tf, t + 1, t + expectedMs[tf])).toEqual([])
    expect(opensBetween(tf, t + expectedMs[tf], t)).toEqual([])
  })

  it("lists month and year boundaries in 4h and daily bars", () => {
    expect(opensBetween("4h", at("2024-12-31T15:00:00Z"), at("2025-01-01T05:00:00Z")).map(iso)).toEqual([
      "2024-12-31T16:00:00.000Z",
      "2024-12-31T20:00:00.000Z",
      "2025-01-01T00:00:00.000Z",
      "2025-01-01T04:00:00.000Z"
    ])
    expect(opensBetween("1d", at("2024-01-30T00:00:00Z"), at("2024-02-02T00:00:00Z")).map(iso)).toEqual([
      "2024-01-30T00:00:00.000Z",
      "2024-01-31T00:00:00.000Z",
      "2024-02-01T00:00:00.000Z"
    ])
    // 2024 has 366 days and starts on Monday: 52 whole ISO weeks plus two days.
    expect(opensBetween("1w", at("2024-01-01T00:00:00Z"), at("2025-01-01T00:00:00Z"))).toHaveLength(53)
    expect(opensBetween("1m", at("2024-02-29T00:00:00Z"), at("2024-03-01T00:00:00Z"))).toHaveLength(1440)
  })
})

describe("Timeframe.divides", () => {
  it("holds exactly when the larger timeframe is a longer whole multiple", () => {
    for (const [i, small] of timeframes.entries())
      for (const [j, large] of timeframes.entries())
        expect([small, large, divides(small, large)]).toEqual([small, large, i < j])
  })

  it("is never reflexive", () => {
    for (const tf of timeframes) expect(divides(tf, tf)).toBe(false)
  })

  it.each(timeframes)(
    "every bar of a larger timeframe %s opens on the grid of each smaller one it divides",
    (large) => {
      const instants = [
        at("2024-12-31T23:59:59Z"),
        at("2025-01-01T00:00:00Z"),
        at("1969-07-20T20:17:40Z"),
        -1,
        0
      ]
      for (const small of timeframes.filter((s) => divides(s, large)))
        for (const t of instants) {
          const open = barOpen(large, t)
          expect(isAligned(small, open)).toBe(true)
          // The larger bar is exactly covered by whole smaller bars.
          expect(opensBetween(small, open, barClose(large, t))).toHaveLength(
            expectedMs[large] / expectedMs[small]
          )
        }
    }
  )
})

describe("TimeframeFromString", () => {
  const decode = Schema.decodeUnknownEither(TimeframeFromString)
  const encode = Schema.encodeEither(TimeframeFromString)

  it("decodes canonical names, any case, and aliases to the canonical timeframe", () => {
    expect(decode("1h")).toEqual(Either.right("1h"))
    expect(decode("4H")).toEqual(Either.right("4h"))
    expect(decode(" 15m ")).toEqual(Either.right("15m"))
    expect(decode("daily")).toEqual(Either.right("1d"))
    expect(decode("60m")).toEqual(Either.right("1h"))
    expect(decode("W")).toEqual(Either.right("1w"))
    for (const tf of timeframes) expect(decode(tf)).toEqual(Either.right(tf))
  })

  it("rejects unknown names with the list of valid ones", () => {
    const result = decode("2h")
    expect(Either.isLeft(result)).toBe(true)
    if (Either.isLeft(result)) {
      const message = ParseResult.TreeFormatter.formatErrorSync(result.left)
      expect(message).toContain('unknown timeframe "2h"')
      expect(message).toContain(timeframes.join(", "))
    }
  })

  it("rejects values that are not strings", () => {
    expect(Either.isLeft(decode(5))).toBe(true)
    expect(Either.isLeft(decode(null))).toBe(true)
    expect(Either.isLeft(decode(undefined))).toBe(true)
  })

  it("encodes to the canonical name", () => {
    for (const tf of timeframes) expect(encode(tf)).toEqual(Either.right(tf))
  })

  it("works inside a struct, e.g. query parameters", () => {
    const Query = Schema.Struct({ timeframe: TimeframeFromString })
    expect(Schema.decodeUnknownSync(Query)({ timeframe: "1DAY" })).toEqual({ timeframe: "1d" })
    const bad = Schema.decodeUnknownEither(Query)({ timeframe: "yearly" })
    expect(Either.isLeft(bad)).toBe(true)
    if (Either.isLeft(bad)) {
      const issues = ParseResult.ArrayFormatter.formatErrorSync(bad.left)
      expect(issues).toHaveLength(1)
      expect(issues[0]?.path).toEqual(["timeframe"])
      expect(issues[0]?.message).toContain('unknown timeframe "yearly"')
    }
  })
})
