/** The fake EODHD itself reproduces the quirks of EODHD's API that the provider relies on. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { type FakeEodhd, startFakeEodhd } from "../../src/testing/eodhd/server"
import { DAY, NOW, TOKEN } from "./harness"

let fake: FakeEodhd
const get = (path: string) => fetch(`${fake.baseUrl}/${path}`)

beforeAll(async () => {
  fake = await startFakeEodhd({ now: () => NOW, validTokens: [TOKEN] })
})
afterAll(() => fake.close())
beforeEach(() => fake.reset())

describe("fake EODHD", () => {
  it("answers CSV unless fmt=json", async () => {
    const csv = await get("eod/AAPL.US?api_token=demo&from=2025-06-02&to=2025-06-03")
    expect(csv.headers.get("content-type")).toMatch(/csv/)
    const lines = (await csv.text()).trim().split("\n")
    expect(lines[0]).toBe("Date,Open,High,Low,Close,Adjusted_close,Volume")
    expect(lines.slice(1).map((l) => l.split(",")[0])).toEqual(["2025-06-02", "2025-06-03"])
    const json = await get("eod/AAPL.US?api_token=demo&fmt=json&from=2025-06-02&to=2025-06-03")
    expect(Object.keys((await json.json())[0])).toEqual([
      "date",
      "open",
      "high",
      "low",
      "close",
      "adjusted_close",
      "volume"
    ])
  })

  it("answers plain-text Unauthenticated for bad tokens and for demo outside the demo symbols", async () => {
    for (const path of [
      "eod/AAPL.US?api_token=nope&fmt=json",
      "eod/AAPL.US?fmt=json",
      "eod/NVDA.US?api_token=demo&fmt=json",
      "exchange-symbol-list/US?api_token=demo&fmt=json"
    ]) {
      const res = await get(path)
      expect([res.status, await res.text()]).toEqual([401, "Unauthenticated"])
    }
  })

  it("refuses an over-range 1m request with the real error body (HTTP 422)", async () => {
    const to = NOW / 1000
    const res = await get(
      `intraday/AAPL.US?api_token=demo&fmt=json&interval=1m&from=${to - 121 * 86_400}&to=${to}`
    )
    expect(res.status).toBe(422)
    expect(await res.json()).toEqual({
      errors: { to: ["Max period length is 120 days"], from: ["Max period length is 120 days"] }
    })
    const ok = await get(
      `intraday/AAPL.US?api_token=demo&fmt=json&interval=5m&from=${to - 500 * 86_400}&to=${to}`
    )
    expect(ok.status).toBe(200)
  })

  it("defaults intraday to the last 120 days, forming bar included", async () => {
    const rows: Array<{ timestamp: number; volume: number | null }> = await (
      await get("intraday/BTC-USD.CC?api_token=demo&fmt=json&interval=1h")
    ).json()
    expect(rows[0]?.timestamp).toBe(Math.ceil((NOW - 120 * DAY) / 3_600_000) * 3_600)
    expect(rows.at(-1)?.timestamp).toBe(Date.UTC(2025, 5, 11, 15) / 1000)
    expect(rows).toHaveLength(120 * 24)
  })

  it("serves exactly its ground truth", async () => {
    const from = Date.UTC(2025, 5, 2)
    const to = Date.UTC(2025, 5, 4)
    const rows: Array<{ timestamp: number; open: number; volume: number | null }> = await (
      await get(
        `intraday/EURUSD.FOREX?api_token=demo&fmt=json&interval=5m&from=${from / 1000}&to=${to / 1000 - 1}`
      )
    ).json()
    const truth = fake.bars("EURUSD.FOREX", "5m", from, to)
    expect(rows.map((r) => [r.timestamp * 1000, r.open, r.volume ?? 0])).toEqual(
      truth.map((b) => [b.ts, b.open, b.volume])
    )
    expect(rows.every((r) => r.volume === null)).toBe(true)
  })

  it("has a few flat US days (volume 0, no intraday bars)", () => {
    const days = fake.bars("AAPL.US", "1d", Date.UTC(2020, 0, 1), Date.UTC(2025, 0, 1))
    const flat = days.filter((b) => b.volume === 0)
    expect(flat.length).toBeGreaterThan(5)
    expect(flat.length).toBeLessThan(days.length / 20)
    const day = flat[0]!
    expect([day.open, day.high, day.low]).toEqual([day.close, day.close, day.close])
    expect(fake.bars("AAPL.US", "1h", day.ts, day.ts + DAY)).toEqual([])
  })

  it("answers 404 for unknown tickers, and lists exchanges", async () => {
    expect((await get(`eod/NOPE.US?api_token=${TOKEN}&fmt=json`)).status).toBe(404)
    const exchanges: Array<{ Code: string }> = await (
      await get(`exchanges-list?api_token=${TOKEN}&fmt=json`)
    ).json()
    expect(exchanges.map((e) => e.Code)).toEqual(["US", "CC", "FOREX"])
  })

  it("aggregates weeks and months, and orders descending on request", async () => {
    const weeks: Array<{ date: string }> = await (
      await get("eod/AAPL.US?api_token=demo&fmt=json&from=2025-05-01&to=2025-05-31&period=w&order=d")
    ).json()
    expect(weeks.map((w) => w.date)).toEqual([
      "2025-05-26",
      "2025-05-19",
      "2025-05-12",
      "2025-05-05",
      "2025-05-01"
    ])
  })

  it("fault controls: 429 with EODHD's headers, 402, 403, malformed, slow, counters, reset", async () => {
    const path = `eod/AAPL.US?api_token=${TOKEN}&fmt=json&from=2025-06-02&to=2025-06-03`
    fake.rateLimit(2, 30)
    for (let i = 0; i < 2; i++) {
      const res = await get(path)
      expect(res.status).toBe(429)
      expect(res.headers.get("retry-after")).toBe("30")
      expect(res.headers.get("x-ratelimit-remaining")).toBe("0")
      expect(res.headers.get("x-ratelimit-limit")).toBe("1000")
    }
    expect((await get(path)).status).toBe(200)
    fake.quotaExhausted()
    expect((await get(path)).status).toBe(402)
    fake.quotaExhausted(false)
    fake.forbidden()
    expect((await get(path)).status).toBe(403)
    fake.forbidden(false)
    fake.malformed(1)
    await expect((await get(path)).json()).rejects.toThrow()
    await expect((await get(path)).json()).resolves.toHaveLength(2)
    fake.slow(150)
    const started = Date.now()
    await get(path)
    expect(Date.now() - started).toBeGreaterThanOrEqual(140)
    expect(fake.requestCount("eod")).toBe(8)
    fake.reset()
    expect(fake.requestCount()).toBe(0)
    expect((await get(path)).status).toBe(200)
  })
})
