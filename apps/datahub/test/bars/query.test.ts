import { HttpApiClient } from "@effect/platform"
import { expect, layer } from "@effect/vitest"
import { BAR_CSV_HEADER, BarCsvLine, DataHubApi, NEXT_CURSOR_HEADER } from "@quasar/domain"
import { TestService } from "@quasar/server/testing"
import { Effect, Schema } from "effect"
import { DataHubAlone } from "../../src/testing/DataHubAlone"
import { MemoryCatalog } from "../../src/testing/MemoryCatalog"
import { allPages, failure, get, iso, page, point, ready, seed, series } from "./http"
import { bars, MINUTE, T0 } from "./support"

const DAY = 1_440 * MINUTE

layer(TestService.layer(DataHubAlone), { timeout: 120_000, excludeTestServices: true })("GET /bars", (it) => {
  it.effect("pages with the cursor return every bar exactly once, oldest first", () =>
    Effect.gen(function* () {
      yield* ready
      const rows = bars("PAGE", 2_500)
      yield* seed("historical", rows)
      const all = yield* allPages({ ...series, symbol: "PAGE", limit: "1000" })
      expect(all.pages).toBe(3)
      expect(all.bars).toEqual(rows.map(point))
      // A range that ends exactly on a page boundary has no further page.
      const exact = yield* allPages({ ...series, symbol: "PAGE", limit: "500", to: iso(T0 + 1_000 * MINUTE) })
      expect(exact.pages).toBe(2)
      expect(exact.bars).toHaveLength(1_000)
    })
  )

  it.effect("honours from (inclusive), to (exclusive) and limit", () =>
    Effect.gen(function* () {
      yield* seed("historical", bars("RANGE", 100))
      const p = yield* page({
        ...series,
        symbol: "RANGE",
        from: iso(T0 + 10 * MINUTE),
        to: iso(T0 + 20 * MINUTE)
      })
      expect(p.bars.map((b) => b.ts)).toEqual(
        Array.from({ length: 10 }, (_, i) => iso(T0 + (10 + i) * MINUTE))
      )
      expect(p.nextCursor).toBeNull()
      const limited = yield* page({ ...series, symbol: "RANGE", limit: "7" })
      expect(limited.bars).toHaveLength(7)
      expect(limited.nextCursor).not.toBeNull()
      const none = yield* page({ ...series, symbol: "RANGE", from: iso(T0 - DAY), to: iso(T0) })
      expect(none).toEqual({ provider: "test", symbol: "RANGE", timeframe: "1m", bars: [], nextCursor: null })
      const widest = yield* page({
        ...series,
        symbol: "RANGE",
        from: "0001-01-01T00:00:00Z",
        to: "9999-12-31T23:59:59Z",
        limit: "100000"
      })
      expect(widest.bars).toHaveLength(100)
      const resampled = yield* page({
        ...series,
        symbol: "RANGE",
        from: "0001-01-01T00:00:00Z",
        resample: "1w"
      })
      expect(resampled.bars).toHaveLength(1)
    })
  )

  it.effect("decodes through the derived client as a BarsPage", () =>
    Effect.gen(function* () {
      const rows = bars("CLIENT", 3).map((r, i) => (i === 1 ? { ...r, vwap: null, trades: null } : r))
      yield* seed("historical", rows)
      const client = yield* HttpApiClient.make(DataHubApi)
      const result = yield* client.bars.query({
        urlParams: { provider: "test" as never, symbol: "CLIENT", timeframe: "1m", limit: 2, format: "json" }
      })
      expect(typeof result).toBe("object")
      expect(result).toMatchObject({ provider: "test", symbol: "CLIENT", timeframe: "1m" })
      if (typeof result === "object") {
        expect(result.bars).toEqual(rows.slice(0, 2).map(point))
        expect(result.nextCursor).toEqual(expect.any(String))
      }
    })
  )

  it.effect("streams CSV: a header, then every bar of the range across internal pages", () =>
    Effect.gen(function* () {
      const rows = bars("CSV", 25_000).map((r, i) => (i === 0 ? { ...r, vwap: null, trades: null } : r))
      yield* seed("historical", rows)
      const res = yield* get({ ...series, symbol: "CSV", format: "csv" })
      expect(res.status).toBe(200)
      expect(res.headers["content-type"]).toMatch(/^text\/csv/)
      const lines = (yield* res.text).split("\n")
      expect(lines[0]).toBe("ts,open,high,low,close,volume,vwap,trades")
      expect(lines.at(-1)).toBe("")
      expect(lines).toHaveLength(25_002)
      expect(lines[1]).toBe(`${iso(T0)},100,101,99,100.5,10,,`)
      expect(lines[2]).toBe(`${iso(T0 + MINUTE)},101,102,100,101.5,11,101.25,1`)
      expect(lines[25_000]).toBe(
        `${iso(rows.at(-1)!.ts)},25099,25100,25098,25099.5,${rows.at(-1)!.volume},25099.25,49`
      )
    })
  )

  it.effect("CSV honours limit and cursor like JSON: the next page's cursor in the Next-Cursor header", () =>
    Effect.gen(function* () {
      const rows = bars("CSVPAGE", 25)
      yield* seed("historical", rows)
      const pages: Array<Array<string>> = []
      let cursor: string | undefined
      do {
        const res = yield* get({
          ...series,
          symbol: "CSVPAGE",
          format: "csv",
          limit: "10",
          ...(cursor ? { cursor } : {})
        })
        expect(res.status).toBe(200)
        const text = yield* res.text
        expect(text.startsWith(BAR_CSV_HEADER)).toBe(true)
        pages.push(text.slice(BAR_CSV_HEADER.length).split("\n").slice(0, -1))
        cursor = res.headers[NEXT_CURSOR_HEADER]
      } while (cursor !== undefined && pages.length < 10)
      expect(pages.map((p) => p.length)).toEqual([10, 10, 5])
      expect(pages.flat().map((line) => Schema.decodeSync(BarCsvLine)(line))).toEqual(rows.map(point))
      // The cursors are one kind: a JSON page's cursor continues a CSV download, and back.
      const json = yield* page({ ...series, symbol: "CSVPAGE", limit: "20" })
      const rest = yield* get({ ...series, symbol: "CSVPAGE", format: "csv", cursor: json.nextCursor ?? "" })
      expect((yield* rest.text).split("\n").slice(1, -1)).toEqual(pages[2])
      expect(rest.headers[NEXT_CURSOR_HEADER]).toBeUndefined()
      const head = yield* get({ ...series, symbol: "CSVPAGE", format: "csv", limit: "20" })
      const after = yield* page({
        ...series,
        symbol: "CSVPAGE",
        cursor: head.headers[NEXT_CURSOR_HEADER] ?? ""
      })
      expect(after.bars).toEqual(rows.slice(20).map(point))
    })
  )

  it.effect("from and to take epoch milliseconds as well as ISO 8601", () =>
    Effect.gen(function* () {
      yield* seed("historical", bars("EPOCH", 30))
      const byIso = yield* page({
        ...series,
        symbol: "EPOCH",
        from: iso(T0 + 10 * MINUTE),
        to: iso(T0 + 20 * MINUTE)
      })
      const byMs = yield* page({
        ...series,
        symbol: "EPOCH",
        from: String(T0 + 10 * MINUTE),
        to: String(T0 + 20 * MINUTE)
      })
      expect(byMs).toEqual(byIso)
      expect(byMs.bars).toHaveLength(10)
      for (const from of ["yesterday", "1e12", "99999999999999999"])
        expect((yield* failure({ ...series, symbol: "EPOCH", from })).status, from).toBe(400)
    })
  )

  it.effect("resolves commonSymbol through the Registry's mappings", () =>
    Effect.gen(function* () {
      const registry = yield* MemoryCatalog
      yield* seed("historical", bars("XBT/USD", 5))
      yield* seed("historical", bars("BTCUSD", 3, { provider: "other" }))
      yield* registry.putMapping({ commonSymbol: "BTC-USD", provider: "test", symbol: "XBT/USD" })
      const p = yield* page({ commonSymbol: "BTC-USD", timeframe: "1m" })
      expect(p).toMatchObject({ provider: "test", symbol: "XBT/USD" })
      expect(p.bars).toHaveLength(5)
      yield* registry.putMapping({ commonSymbol: "BTC-USD", provider: "other", symbol: "BTCUSD" })
      const ambiguous = yield* failure({ commonSymbol: "BTC-USD", timeframe: "1m" })
      expect(ambiguous).toMatchObject({
        status: 400,
        body: { field: "provider", message: expect.stringContaining("other, test") }
      })
      const other = yield* page({ commonSymbol: "BTC-USD", provider: "other", timeframe: "1m" })
      expect(other).toMatchObject({ provider: "other", symbol: "BTCUSD" })
      expect(other.bars).toHaveLength(3)
    })
  )
})
