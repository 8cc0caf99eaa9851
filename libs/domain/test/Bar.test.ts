import { describe, expect, it } from "@effect/vitest"
import { Either, ParseResult, Schema } from "effect"
import { Bar, barProblem, type RawBar, ValidBar } from "../src/Bar"
import type { Timeframe } from "../src/Timeframe"
import { timeframes } from "../src/Timeframe"

const NOW = Date.parse("2024-03-01T12:00:30Z")
const OPEN = Date.parse("2024-03-01T12:00:00Z") // aligned for 1m … 4h; still forming at NOW

const sound: RawBar = { ts: OPEN, open: 100, high: 110, low: 95, close: 105, volume: 12.5 }

/** The messages of every issue when `input` fails `ValidBar(tf, now)`; [] when it decodes. */
const issues = (input: unknown, tf: Timeframe = "1m", now = NOW): Array<string> =>
  Either.match(Schema.decodeUnknownEither(ValidBar(tf, now))(input), {
    onLeft: (e) =>
      ParseResult.ArrayFormatter.formatErrorSync(e).map((i) => `${i.path.join(".")}: ${i.message}`),
    onRight: () => []
  })

describe("barProblem", () => {
  it("accepts a sound bar", () => {
    expect(barProblem(sound, "1m", NOW)).toBeUndefined()
  })

  it("accepts boundary cases: flat bars, zero volume, open or close at high/low, the current bar", () => {
    expect(barProblem({ ...sound, open: 5, high: 5, low: 5, close: 5 }, "1m", NOW)).toBeUndefined()
    expect(barProblem({ ...sound, volume: 0 }, "1m", NOW)).toBeUndefined()
    expect(barProblem({ ...sound, open: 110, close: 95 }, "1m", NOW)).toBeUndefined()
    expect(barProblem({ ...sound, open: 95, close: 110 }, "1m", NOW)).toBeUndefined()
    expect(barProblem(sound, "1m", OPEN)).toBeUndefined()
    expect(barProblem({ ...sound, open: -3, high: -1, low: -5, close: -2 }, "1m", NOW)).toBeUndefined()
  })

  it.each([
    ["open", Number.NaN],
    ["high", Number.NaN],
    ["low", Number.NaN],
    ["close", Number.NaN],
    ["volume", Number.NaN],
    ["open", Number.POSITIVE_INFINITY],
    ["high", Number.POSITIVE_INFINITY],
    ["low", Number.NEGATIVE_INFINITY],
    ["close", Number.NEGATIVE_INFINITY],
    ["volume", Number.POSITIVE_INFINITY]
  ] as const)("rejects %s = %d as not finite", (field, value) => {
    expect(barProblem({ ...sound, [field]: value }, "1m", NOW)).toMatch(/not a finite number/)
  })

  it("rejects high below low", () => {
    expect(barProblem({ ...sound, high: 90, low: 95, open: 92, close: 93 }, "1m", NOW)).toBe(
      "high 90 is below low 95"
    )
  })

  it("rejects an open outside [low, high]", () => {
    expect(barProblem({ ...sound, open: 111 }, "1m", NOW)).toBe("open 111 is outside [low 95, high 110]")
    expect(barProblem({ ...sound, open: 94 }, "1m", NOW)).toBe("open 94 is outside [low 95, high 110]")
  })

  it("rejects a close outside [low, high]", () => {
    expect(barProblem({ ...sound, close: 110.5 }, "1m", NOW)).toBe(
      "close 110.5 is outside [low 95, high 110]"
    )
    expect(barProblem({ ...sound, close: 94.99 }, "1m", NOW)).toBe(
      "close 94.99 is outside [low 95, high 110]"
    )
  })

  it("rejects negative volume", () => {
    expect(barProblem({ ...sound, volume: -1 }, "1m", NOW)).toBe("volume -1 is negative")
  })

  it("rejects an open time that is not an integer", () => {
    expect(barProblem({ ...sound, ts: OPEN + 0.5 }, "1m", NOW)).toMatch(/not an epoch-millisecond integer/)
  })

  it("rejects a misaligned open time, naming the timeframe", () => {
    expect(barProblem({ ...sound, ts: OPEN + 1_000 }, "1m", NOW)).toBe(
      "open time 2024-03-01T12:00:01.000Z is not aligned to 1m"
    )
    expect(
      barProblem(
        { ...sound, ts: Date.parse("2024-03-01T12:05:00Z") },
        "15m",
        Date.parse("2024-03-02T00:00:00Z")
      )
    ).toBe("open time 2024-03-01T12:05:00.000Z is not aligned to 15m")
    // 2024-03-01 is a Friday: daily-aligned but not weekly-aligned.
    expect(barProblem({ ...sound, ts: Date.parse("2024-03-01T00:00:00Z") }, "1w", NOW)).toBe(
      "open time 2024-03-01T00:00:00.000Z is not aligned to 1w"
    )
  })

  it("rejects a bar that opens in the future", () => {
    const next = OPEN + 60_000
    expect(barProblem({ ...sound, ts: next }, "1m", NOW)).toBe(
      "open time 2024-03-01T12:01:00.000Z is in the future"
    )
    expect(barProblem({ ...sound, ts: next }, "1m", next)).toBeUndefined()
  })

  it.each(timeframes)("accepts a sound %s bar at an aligned open time", (tf) => {
    const monday = Date.parse("2024-02-26T00:00:00Z")
    expect(barProblem({ ...sound, ts: monday }, tf, NOW)).toBeUndefined()
    expect(barProblem({ ...sound, ts: monday + 60_000 }, tf, NOW) === undefined).toBe(tf === "1m")
  })
})

describe("ValidBar", () => {
  it("decodes a sound bar unchanged, with or without vwap and trades", () => {
    expect(Schema.decodeUnknownSync(ValidBar("1m", NOW))(sound)).toEqual(sound)
    const full = { ...sound, vwap: 101.5, trades: 42 }
    expect(Schema.decodeUnknownSync(ValidBar("1m", NOW))(full)).toEqual(full)
    expect(issues(sound)).toEqual([])
  })

  it.each([
    ["open", Number.NaN, "NaN"],
    ["high", Number.POSITIVE_INFINITY, "Infinity"],
    ["low", Number.NEGATIVE_INFINITY, "-Infinity"],
    ["close", Number.NaN, "NaN"],
    ["volume", Number.NaN, "NaN"]
  ] as const)("rejects a non-finite %s, naming the field", (field, value, shown) => {
    const found = issues({ ...sound, [field]: value })
    expect(found).toHaveLength(1)
    expect(found[0]).toMatch(new RegExp(`^${field}: .*finite`))
    expect(found[0]).toContain(shown)
  })

  it("rejects high below low", () => {
    expect(issues({ ...sound, high: 90, low: 95, open: 92, close: 93 })).toEqual([
      ": high 90 is below low 95"
    ])
  })

  it("rejects open and close outside the range", () => {
    expect(issues({ ...sound, open: 120 })).toEqual([": open 120 is outside [low 95, high 110]"])
    expect(issues({ ...sound, close: 1 })).toEqual([": close 1 is outside [low 95, high 110]"])
  })

  it("rejects negative volume, naming the field", () => {
    const found = issues({ ...sound, volume: -0.5 })
    expect(found).toHaveLength(1)
    expect(found[0]).toMatch(/^volume: .*-0\.5/)
  })

  it("rejects negative trade counts and non-integer open times, naming the field", () => {
    expect(issues({ ...sound, trades: -1 })[0]).toMatch(/^trades: /)
    expect(issues({ ...sound, trades: 1.5 })[0]).toMatch(/^trades: .*integer/)
    expect(issues({ ...sound, ts: OPEN + 0.25 })[0]).toMatch(
      /^ts: .*epoch milliseconds, actual 1709294400000\.25$/
    )
  })

  it("rejects a misaligned open time", () => {
    expect(issues({ ...sound, ts: OPEN + 30_000 })).toEqual([
      ": open time 2024-03-01T12:00:30.000Z is not aligned to 1m"
    ])
    expect(issues(sound, "1d")).toEqual([": open time 2024-03-01T12:00:00.000Z is not aligned to 1d"])
  })

  it("rejects a future open time", () => {
    expect(issues(sound, "1m", OPEN - 1)).toEqual([": open time 2024-03-01T12:00:00.000Z is in the future"])
  })

  it("rejects missing fields and wrong types, naming the field", () => {
    const { close: _, ...noClose } = sound
    expect(issues(noClose)).toEqual(["close: is missing"])
    expect(issues({ ...sound, open: "100" })[0]).toMatch(/^open: Expected number/)
    expect(issues(null)).toHaveLength(1)
  })
})

describe("Bar (served)", () => {
  it("round-trips through JSON with an ISO timestamp", () => {
    const json = {
      provider: "kraken",
      symbol: "BTC/USD",
      timeframe: "1h",
      ts: "2024-03-01T12:00:00.000Z",
      open: 1,
      high: 2,
      low: 0.5,
      close: 1.5,
      volume: 10
    }
    const bar = Schema.decodeUnknownSync(Bar)(json)
    expect(bar.ts.epochMillis).toBe(Date.parse(json.ts))
    expect(Schema.encodeSync(Bar)(bar)).toEqual(json)
  })

  it("rejects an unknown timeframe and a malformed provider name", () => {
    const base = {
      provider: "kraken",
      symbol: "BTC/USD",
      timeframe: "1h",
      ts: "2024-03-01T12:00:00.000Z",
      open: 1,
      high: 2,
      low: 0.5,
      close: 1.5,
      volume: 10
    }
    expect(Either.isLeft(Schema.decodeUnknownEither(Bar)({ ...base, timeframe: "2h" }))).toBe(true)
    expect(Either.isLeft(Schema.decodeUnknownEither(Bar)({ ...base, provider: "Kraken!" }))).toBe(true)
  })
})
