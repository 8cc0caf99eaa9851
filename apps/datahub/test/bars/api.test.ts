import { HttpApiClient, HttpClient } from "@effect/platform"
import { expect, layer } from "@effect/vitest"
import { type BarPoint, BarsPage, DataHubApi } from "@quasar/domain"
import { SchemaState } from "@quasar/server"
import { TestService } from "@quasar/server/testing"
import { SqlClient } from "@effect/sql"
import { DateTime, Effect, Schema } from "effect"
import { AppLive } from "../../src/App"
import { type BarRow, BarWriter } from "../../src/store/BarWriter"
import { bars, MINUTE, T0 } from "./support"

const DAY = 1_440 * MINUTE
const iso = (ms: number) => new Date(ms).toISOString()

const get = (params: Record<string, string>, path = "/bars") =>
  Effect.flatMap(HttpClient.HttpClient, (http) => http.get(path, { urlParams: params }))

const page = (params: Record<string, string>) =>
  get(params).pipe(
    Effect.flatMap((res) => (res.status === 200 ? res.json : Effect.die(`status ${res.status}`))),
    Effect.flatMap(Schema.decodeUnknown(BarsPage))
  )

/** Every bar of a query, following nextCursor; also how many pages it took. */
const allPages = (params: Record<string, string>) =>
  Effect.gen(function* () {
    const out: Array<BarPoint> = []
    let cursor: string | null = null
    let pages = 0
    do {
      const p: typeof BarsPage.Type = yield* page(cursor ? { ...params, cursor } : params)
      out.push(...p.bars)
      cursor = p.nextCursor
      pages++
    } while (cursor !== null && pages < 1_000)
    return { bars: out, pages }
  })

const failure = (params: Record<string, string>, path = "/bars") =>
  get(params, path).pipe(Effect.flatMap((res) => Effect.map(res.json, (body) => ({ status: res.status, body }))))

const seed = (target: "historical" | "live", rows: ReadonlyArray<BarRow>) =>
  Effect.flatMap(BarWriter, (w) => w.write(target, rows))

const point = (r: BarRow): BarPoint => ({
  ts: iso(r.ts),
  open: r.open,
  high: r.high,
  low: r.low,
  close: r.close,
  volume: r.volume,
  vwap: r.vwap ?? null,
  trades: r.trades ?? null
})

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

const ready = Effect.flatMap(SchemaState.SchemaState, (s) => s.ready)
const series = { provider: "test", timeframe: "1m" }

layer(TestService.layer(AppLive), { timeout: 120_000, excludeTestServices: true })("GET /bars", (it) => {
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
      const p = yield* page({ ...series, symbol: "RANGE", from: iso(T0 + 10 * MINUTE), to: iso(T0 + 20 * MINUTE) })
      expect(p.bars.map((b) => b.ts)).toEqual(Array.from({ length: 10 }, (_, i) => iso(T0 + (10 + i) * MINUTE)))
      expect(p.nextCursor).toBeNull()
      const limited = yield* page({ ...series, symbol: "RANGE", limit: "7" })
      expect(limited.bars).toHaveLength(7)
      expect(limited.nextCursor).not.toBeNull()
      const none = yield* page({ ...series, symbol: "RANGE", from: iso(T0 - DAY), to: iso(T0) })
      expect(none).toEqual({ provider: "test", symbol: "RANGE", timeframe: "1m", bars: [], nextCursor: null })
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
      expect(lines[25_000]).toBe(`${iso(rows.at(-1)!.ts)},25099,25100,25098,25099.5,${rows.at(-1)!.volume},25099.25,49`)
    })
  )

  it.effect("resamples 1m bars to 1h like a hand computation, partial buckets included, paged", () =>
    Effect.gen(function* () {
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
      const cut = yield* page({ ...series, symbol: "RES", resample: "1h", from: iso(hours[1]! + 30 * MINUTE) })
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
      const csv = yield* Effect.flatMap(get({ ...series, symbol: "RES", resample: "1h", format: "csv" }), (r) => r.text)
      expect(csv.split("\n").slice(1, -1).map((l) => l.split(",")[0])).toEqual(expected.map((b) => b.ts))
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
        weeks.map((open) => bucketOf(rows.filter((r) => r.ts >= open && r.ts < open + 7 * DAY), open))
      )
    })
  )

  it.effect("resolves commonSymbol through asset_mapping", () =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* seed("historical", bars("XBT/USD", 5))
      yield* seed("historical", bars("BTCUSD", 3, { provider: "other" }))
      yield* sql`INSERT INTO asset_mapping (common_symbol, source, source_kind, symbol)
                 VALUES ('BTC-USD', 'test', 'provider', 'XBT/USD')`
      const p = yield* page({ commonSymbol: "BTC-USD", timeframe: "1m" })
      expect(p).toMatchObject({ provider: "test", symbol: "XBT/USD" })
      expect(p.bars).toHaveLength(5)
      yield* sql`INSERT INTO asset_mapping (common_symbol, source, source_kind, symbol)
                 VALUES ('BTC-USD', 'other', 'provider', 'BTCUSD')`
      const ambiguous = yield* failure({ commonSymbol: "BTC-USD", timeframe: "1m" })
      expect(ambiguous).toMatchObject({ status: 400, body: { field: "provider", message: expect.stringContaining("other, test") } })
      const other = yield* page({ commonSymbol: "BTC-USD", provider: "other", timeframe: "1m" })
      expect(other).toMatchObject({ provider: "other", symbol: "BTCUSD" })
      expect(other.bars).toHaveLength(3)
    })
  )

  it.effect("answers 400 naming the problem for inconsistent parameters", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<[Record<string, string>, string, RegExp]> = [
        [{ ...series, symbol: "RANGE", from: iso(T0 + MINUTE), to: iso(T0) }, "from", /from is after to/],
        [{ provider: "test", timeframe: "1h", symbol: "RANGE", resample: "1m" }, "resample", /not a larger whole multiple/],
        [{ provider: "test", timeframe: "1h", symbol: "RANGE", resample: "1h" }, "resample", /not a larger whole multiple/],
        [{ timeframe: "1m" }, "symbol", /provider and symbol, or commonSymbol/],
        [{ ...series, symbol: "RANGE", commonSymbol: "BTC-USD" }, "commonSymbol", /not both/],
        [{ timeframe: "1m", symbol: "RANGE" }, "provider", /symbol needs provider/],
        [{ ...series, symbol: "RANGE", cursor: "bm90LWEtY3Vyc29y" }, "cursor", /nextCursor unchanged/]
      ]
      for (const [params, field, message] of cases) {
        const res = yield* failure(params)
        expect(res, JSON.stringify(params)).toMatchObject({
          status: 400,
          body: { _tag: "InvalidRequest", field, message: expect.stringMatching(message) }
        })
      }
      expect((yield* failure({ ...series, symbol: "RANGE", limit: "100001" })).status).toBe(400)
      expect((yield* failure({ ...series, symbol: "RANGE", timeframe: "2m" })).status).toBe(400)
    })
  )

  it.effect("answers 404 with a message for unknown providers, symbols and mappings", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<[Record<string, string>, RegExp]> = [
        [{ provider: "nosuch", symbol: "X", timeframe: "1m" }, /unknown provider nosuch/],
        [{ provider: "test", symbol: "NOPE", timeframe: "1m" }, /unknown symbol NOPE at test/],
        [{ commonSymbol: "NOPE-USD", timeframe: "1m" }, /no provider symbol is mapped to common symbol NOPE-USD/],
        [{ provider: "test", symbol: "NOPE", timeframe: "1m", format: "csv" }, /unknown symbol NOPE/]
      ]
      for (const [params, message] of cases) {
        expect(yield* failure(params)).toMatchObject({
          status: 404,
          body: { _tag: "NotFound", message: expect.stringMatching(message) }
        })
      }
      expect(yield* failure({ provider: "test", symbol: "NOPE", timeframe: "1m" }, "/bars/latest")).toMatchObject({
        status: 404,
        body: { _tag: "NotFound", message: expect.stringContaining("no bars stored for test NOPE 1m") }
      })
    })
  )
})

layer(TestService.layer(AppLive), { timeout: 120_000, excludeTestServices: true })("GET /bars/latest", (it) => {
  it.effect("is the forming bar when it is newer, else the last closed bar", () =>
    Effect.gen(function* () {
      yield* ready
      const client = yield* HttpApiClient.make(DataHubApi)
      const latest = () =>
        client.bars.latest({ urlParams: { provider: "test" as never, symbol: "LAST", timeframe: "1m" } })
      const closed = bars("LAST", 10)
      yield* seed("historical", closed)
      expect(yield* latest()).toEqual(point(closed.at(-1)!))
      // A stale forming row of an already-closed bar loses to the closed one.
      yield* seed("live", [{ ...closed.at(-1)!, close: 1 }])
      expect(yield* latest()).toEqual(point(closed.at(-1)!))
      const forming = { ...closed.at(-1)!, ts: closed.at(-1)!.ts + MINUTE, close: 7, vwap: null, trades: null }
      yield* seed("live", [forming])
      expect(yield* latest()).toEqual(point(forming))
      expect(DateTime.unsafeMake((yield* latest()).ts).epochMillis).toBe(forming.ts)
    })
  )
})
