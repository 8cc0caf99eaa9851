import { describe, expect, it } from "@effect/vitest"
import { DateTime, Either, Schema } from "effect"
import { BAR_CSV_HEADER, BarCsvLine } from "../src/BarCsv"
import { type BarPoint, BarsQuery, InstantParam } from "../src/BarsApi"

const bar: BarPoint = {
  ts: "2024-01-02T03:04:00.000Z",
  open: 100.5,
  high: 101,
  low: 99.25,
  close: 0.30000000000000004,
  volume: 12.5,
  vwap: null,
  trades: 7
}

describe("BarCsvLine", () => {
  it("has a header naming BarPoint's fields in order", () => {
    expect(BAR_CSV_HEADER).toBe("ts,open,high,low,close,volume,vwap,trades\n")
  })

  it("encodes a bar as one line, null as an empty field, and decodes it back", () => {
    const line = Schema.encodeSync(BarCsvLine)(bar)
    expect(line).toBe("2024-01-02T03:04:00.000Z,100.5,101,99.25,0.30000000000000004,12.5,,7")
    expect(Schema.decodeSync(BarCsvLine)(line)).toEqual(bar)
  })

  it("reads numbers in exponent form as PostgreSQL writes them", () => {
    expect(
      Schema.decodeSync(BarCsvLine)("2024-01-02T03:04:00.000Z,1e-07,1e+21,1e-07,1e-07,0,1.5e-05,")
    ).toEqual({
      ...bar,
      open: 1e-7,
      high: 1e21,
      low: 1e-7,
      close: 1e-7,
      volume: 0,
      vwap: 1.5e-5,
      trades: null
    })
  })

  it.each([
    ["too few fields", "2024-01-02T03:04:00.000Z,1,2,3"],
    ["a word for a number", "2024-01-02T03:04:00.000Z,1,2,x,4,5,,"],
    ["an empty price", "2024-01-02T03:04:00.000Z,1,,0,4,5,,"]
  ])("refuses %s", (_, line) => {
    expect(Either.isLeft(Schema.decodeEither(BarCsvLine)(line))).toBe(true)
  })
})

describe("InstantParam", () => {
  const decode = Schema.decodeEither(InstantParam)
  const ms = Date.UTC(2024, 0, 2, 3, 4)

  it("reads ISO 8601 and epoch milliseconds as the same instant", () => {
    for (const input of [
      "2024-01-02T03:04:00Z",
      "2024-01-02T03:04:00.000Z",
      "2024-01-02T04:04:00+01:00",
      String(ms)
    ])
      expect(Either.map(decode(input), DateTime.toEpochMillis), input).toEqual(Either.right(ms))
    expect(Either.map(decode("-86400000"), DateTime.toEpochMillis)).toEqual(Either.right(-86_400_000))
    // Digits only are milliseconds, never a year.
    expect(Either.map(decode("2024"), DateTime.toEpochMillis)).toEqual(Either.right(2024))
  })

  it("sends ISO 8601", () => {
    expect(Schema.encodeSync(InstantParam)(DateTime.unsafeMake(ms))).toBe("2024-01-02T03:04:00.000Z")
  })

  it.each(["yesterday", "", "1e12", "99999999999999999", "2024-13-45T00:00:00Z"])("refuses %j", (input) => {
    expect(Either.isLeft(decode(input))).toBe(true)
  })

  it("is what from and to of a bars query take", () => {
    const q = Schema.decodeUnknownSync(BarsQuery)({
      timeframe: "1m",
      from: String(ms),
      to: "2024-01-03T00:00:00Z"
    })
    expect(q.from && DateTime.toEpochMillis(q.from)).toBe(ms)
    expect(q.to && DateTime.toEpochMillis(q.to)).toBe(Date.UTC(2024, 0, 3))
  })
})
