/**
 * The bars API's two wire formats, byte for byte, against their Schema encodings: a JSON page is
 * exactly `JSON.stringify` of the encoded `BarsPage`, a CSV line exactly the encoded `BarCsvLine`.
 * Numbers PostgreSQL writes in exponent form (`1e-07`, where JavaScript writes `1e-7`) are held
 * to the same values by decoding instead.
 */
import { expect, layer } from "@effect/vitest"
import { BAR_CSV_HEADER, BarCsvLine, type BarPoint, BarsPage, ProviderName } from "@quasar/domain"
import { TestService } from "@quasar/server/testing"
import { Effect, Schema } from "effect"
import type { BarRow } from "../../src/store/BarWriter"
import { DataHubAlone } from "../../src/testing/DataHubAlone"
import { get, point, ready, seed, series } from "./http"
import { MINUTE, T0 } from "./support"

const row = (symbol: string, i: number, values: Partial<BarRow>): BarRow => ({
  provider: "test",
  symbol,
  timeframe: "1m",
  ts: T0 + i * MINUTE,
  open: 1,
  high: 1,
  low: 1,
  close: 1,
  volume: 0,
  vwap: null,
  trades: null,
  ...values
})

/** Values whose text is the same in PostgreSQL and JavaScript: fractions, noise, signs, nulls, big and small. */
const ordinary = (symbol: string) => [
  row(symbol, 0, {
    open: 0.1 + 0.2,
    high: 3219.749999999999,
    low: 0.1,
    close: 2.5,
    volume: 123_456_789.123456
  }),
  row(symbol, 1, { open: -3, high: -1, low: -5, close: -2, volume: 0.001, vwap: -2.75, trades: 0 }),
  row(symbol, 2, { open: 42, high: 42, low: 42, close: 42, volume: 1e14, vwap: 42, trades: 2_147_483_647 }),
  // Before 1970 and at the end of a day.
  {
    ...row(symbol, 0, { open: 7, high: 8, low: 6, close: 7.5, volume: 3 }),
    ts: Date.UTC(1969, 11, 31, 23, 59)
  }
]
const extreme = (symbol: string) => [
  row(symbol, 0, {
    open: 1e-7,
    high: 1e21,
    low: 1e-7,
    close: 5e-324,
    volume: 1.7976931348623157e308,
    vwap: 1e-5
  })
]

const text = (params: Record<string, string>) => Effect.flatMap(get(params), (res) => res.text)
const sorted = (rows: ReadonlyArray<BarRow>): Array<BarPoint> =>
  rows.toSorted((a, b) => a.ts - b.ts).map(point)

layer(TestService.layer(DataHubAlone), { timeout: 120_000, excludeTestServices: true })(
  "bars wire formats",
  (it) => {
    it.effect("a JSON page is byte for byte the encoded BarsPage", () =>
      Effect.gen(function* () {
        yield* ready
        const rows = ordinary("GOLD")
        yield* seed("historical", rows)
        const expected = sorted(rows)
        const whole = yield* text({ ...series, symbol: "GOLD" })
        expect(whole).toBe(
          JSON.stringify(
            Schema.encodeSync(BarsPage)({
              provider: ProviderName.make("test"),
              symbol: "GOLD",
              timeframe: "1m",
              bars: expected,
              nextCursor: null
            })
          )
        )
        const first = yield* text({ ...series, symbol: "GOLD", limit: "3" })
        const cursor = Schema.decodeUnknownSync(Schema.parseJson(BarsPage))(first).nextCursor
        expect(cursor).toEqual(expect.any(String))
        expect(first).toBe(
          JSON.stringify(
            Schema.encodeSync(BarsPage)({
              provider: ProviderName.make("test"),
              symbol: "GOLD",
              timeframe: "1m",
              bars: expected.slice(0, 3),
              nextCursor: cursor
            })
          )
        )
        // The empty page of a known series.
        expect(yield* text({ ...series, symbol: "GOLD", to: "1900-01-01T00:00:00Z" })).toBe(
          '{"provider":"test","symbol":"GOLD","timeframe":"1m","bars":[],"nextCursor":null}'
        )
      })
    )

    it.effect("a CSV download is the header, then byte for byte the encoded BarCsvLine of each bar", () =>
      Effect.gen(function* () {
        const rows = ordinary("GOLDCSV")
        yield* seed("historical", rows)
        const csv = yield* text({ ...series, symbol: "GOLDCSV", format: "csv" })
        expect(csv).toBe(
          BAR_CSV_HEADER +
            sorted(rows)
              .map((bar) => `${Schema.encodeSync(BarCsvLine)(bar)}\n`)
              .join("")
        )
      })
    )

    it.effect("numbers PostgreSQL writes in exponent form decode to the stored values", () =>
      Effect.gen(function* () {
        const rows = extreme("EXP")
        yield* seed("historical", rows)
        const json = yield* text({ ...series, symbol: "EXP" })
        expect(Schema.decodeUnknownSync(Schema.parseJson(BarsPage))(json).bars).toEqual(sorted(rows))
        const lines = (yield* text({ ...series, symbol: "EXP", format: "csv" })).split("\n")
        expect(lines.slice(1, -1).map((l) => Schema.decodeSync(BarCsvLine)(l))).toEqual(sorted(rows))
      })
    )
  }
)
