/** History against the fake EODHD: exact bars, request splitting, and only closed bars. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { type FakeEodhd, startFakeEodhd } from "../../src/testing/eodhd/server"
import { bars, context, DAY, NOW, pages, TOKEN } from "./harness"

const HOUR = 3_600_000
let clock = NOW
let fake: FakeEodhd
const ctx = () => context(fake.baseUrl, () => clock)

beforeAll(async () => {
  fake = await startFakeEodhd({ now: () => clock, validTokens: [TOKEN] })
})
afterAll(() => fake.close())
beforeEach(() => {
  clock = NOW
  fake.reset()
})

const weekdaysIn = (from: number, to: number): Array<number> => {
  const out: Array<number> = []
  for (let d = from; d < to; d += DAY) if (![0, 6].includes(new Date(d).getUTCDay())) out.push(d)
  return out
}

describe("daily history", () => {
  it("returns every trading day exactly once at 00:00 UTC", async () => {
    const from = Date.UTC(2023, 0, 1)
    const to = Date.UTC(2025, 5, 11)
    const got = await bars(ctx(), { symbol: "AAPL.US", timeframe: "1d", from, to })
    expect(got.map((b) => b.ts)).toEqual(weekdaysIn(from, to))
    expect(got).toEqual(fake.bars("AAPL.US", "1d", from, to))
    expect(fake.requestCount("eod")).toBe(1)
    expect(fake.requests[0]?.query).toMatchObject({
      from: "2023-01-01",
      to: "2025-06-10",
      period: "d",
      order: "a"
    })
  })

  it("crypto has a bar every day", async () => {
    const from = Date.UTC(2025, 0, 1)
    const to = Date.UTC(2025, 1, 1)
    const got = await bars(ctx(), { symbol: "BTC-USD.CC", timeframe: "1d", from, to })
    expect(got.map((b) => b.ts)).toEqual(Array.from({ length: 31 }, (_, i) => from + i * DAY))
  })

  it("does not yield today's bar, nor yesterday's before the publish delay has passed", async () => {
    const from = Date.UTC(2025, 5, 9)
    const to = Date.UTC(2025, 5, 14)
    expect(fake.bars("AAPL.US", "1d", from, to).map((b) => b.ts)).toContain(Date.UTC(2025, 5, 11))
    const got = await bars(ctx(), { symbol: "AAPL.US", timeframe: "1d", from, to })
    expect(got.map((b) => b.ts)).toEqual([Date.UTC(2025, 5, 9), Date.UTC(2025, 5, 10)])
    clock = Date.UTC(2025, 5, 11, 2)
    const early = await bars(ctx(), { symbol: "AAPL.US", timeframe: "1d", from, to })
    expect(early.map((b) => b.ts)).toEqual([Date.UTC(2025, 5, 9)])
  })

  it("splits decades into ten-year requests without losing a day", async () => {
    const from = Date.UTC(2000, 0, 1)
    const to = Date.UTC(2025, 0, 1)
    const got = await pages(ctx(), { symbol: "MSFT.US", timeframe: "1d", from, to })
    expect(got).toHaveLength(3)
    expect(got.flatMap((p) => p.bars)).toEqual(fake.bars("MSFT.US", "1d", from, to))
  })
})

describe("intraday history", () => {
  it("splits a 250-day 1m range into 3 requests and returns every bar exactly once", async () => {
    const to = Date.UTC(2025, 5, 11)
    const from = to - 250 * DAY
    const got = await pages(ctx(), { symbol: "AAPL.US", timeframe: "1m", from, to })
    expect(fake.requestCount("intraday")).toBe(3)
    expect(got).toHaveLength(3)
    const all = got.flatMap((p) => p.bars)
    expect(all).toEqual(fake.bars("AAPL.US", "1m", from, to))
    expect(new Set(all.map((b) => b.ts)).size).toBe(all.length)
    for (const b of all) {
      const minute = (b.ts % DAY) / 60_000
      expect(minute >= 13 * 60 + 30 && minute < 20 * 60).toBe(true)
    }
    const windows = fake.requests.map((r) => [Number(r.query.from), Number(r.query.to)])
    expect(windows).toEqual([
      [from / 1000, (from + 120 * DAY) / 1000 - 1],
      [(from + 120 * DAY) / 1000, (from + 240 * DAY) / 1000 - 1],
      [(from + 240 * DAY) / 1000, to / 1000 - 1]
    ])
  }, 120_000) // ~70k bars served and compared: slow on a loaded machine

  it.each([
    ["5m", "EURUSD.FOREX"],
    ["1h", "BTC-USD.CC"]
  ] as const)("%s bars of %s equal the ground truth (null volume read as 0)", async (timeframe, symbol) => {
    const from = Date.UTC(2025, 4, 1)
    const to = Date.UTC(2025, 5, 1)
    const got = await bars(ctx(), { symbol, timeframe, from, to })
    expect(got.length).toBeGreaterThan(0)
    expect(got).toEqual(fake.bars(symbol, timeframe, from, to))
    expect(fake.requestCount("intraday")).toBe(1)
  })

  it("yields only closed bars in [from, to), though the fake serves the forming one", async () => {
    const from = Date.UTC(2025, 5, 11, 13, 30)
    const to = Date.UTC(2025, 5, 11, 16)
    expect(fake.bars("AAPL.US", "1m", from, to).at(-1)?.ts).toBe(Date.UTC(2025, 5, 11, 15, 7))
    const got = await bars(ctx(), { symbol: "AAPL.US", timeframe: "1m", from, to })
    expect(got[0]?.ts).toBe(from)
    expect(got.at(-1)?.ts).toBe(Date.UTC(2025, 5, 11, 15, 6))
    expect(got).toHaveLength(97)
    const hourly = await bars(ctx(), {
      symbol: "BTC-USD.CC",
      timeframe: "1h",
      from: NOW - 5 * HOUR,
      to: NOW + HOUR
    })
    expect(hourly.map((b) => b.ts)).toEqual([11, 12, 13, 14].map((h) => Date.UTC(2025, 5, 11, h)))
  })

  it("asks nothing when the whole range is still open", async () => {
    const got = await pages(ctx(), { symbol: "AAPL.US", timeframe: "5m", from: NOW - 60_000, to: NOW + DAY })
    expect(got).toEqual([])
    expect(fake.requestCount()).toBe(0)
  })

  it("always sends fmt=json and the token", async () => {
    await bars(ctx(), { symbol: "AAPL.US", timeframe: "1d", from: NOW - 10 * DAY, to: NOW })
    await bars(ctx(), { symbol: "AAPL.US", timeframe: "5m", from: NOW - 2 * DAY, to: NOW })
    expect(fake.requestCount()).toBe(2)
    for (const r of fake.requests) expect(r.query).toMatchObject({ fmt: "json", api_token: TOKEN })
  })
})
