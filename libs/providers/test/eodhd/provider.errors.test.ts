/** How the provider turns EODHD's failures (reproduced by the fake) into the SDK's error classes. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import eodhd from "../../src/eodhd"
import { eodhdClient } from "../../src/eodhd/rest"
import { FatalError, type HistoryRequest, RetryableError } from "../../src/sdk"
import { type FakeEodhd, startFakeEodhd } from "../../src/testing/eodhd/server"
import { bars, context, DAY, fixture, NOW, rejection, TOKEN } from "./harness"

let fake: FakeEodhd
const ctx = (apiToken = TOKEN) => context(fake.baseUrl, () => NOW, { apiToken })
const daily: HistoryRequest = { symbol: "AAPL.US", timeframe: "1d", from: NOW - 30 * DAY, to: NOW }

beforeAll(async () => {
  fake = await startFakeEodhd({ now: () => NOW, validTokens: [TOKEN] })
})
afterAll(() => fake.close())
beforeEach(() => fake.reset())

describe("errors from EODHD", () => {
  it("429 ⇒ RetryableError with retryAfterMs = Retry-After × 1000, then it works again", async () => {
    fake.rateLimit(1, 7)
    const error = await rejection(bars(ctx(), daily))
    expect(error).toBeInstanceOf(RetryableError)
    expect(error instanceof RetryableError && error.retryAfterMs).toBe(7_000)
    expect((await bars(ctx(), daily)).length).toBeGreaterThan(0)
  })

  it("402 (API limit used up) ⇒ FatalError", async () => {
    fake.quotaExhausted()
    const error = await rejection(bars(ctx(), daily))
    expect(error).toBeInstanceOf(FatalError)
    expect(error.message).toMatch(/API limit used up/)
  })

  it("403 ⇒ FatalError", async () => {
    fake.forbidden()
    expect(await rejection(eodhd.listAssets(ctx()))).toBeInstanceOf(FatalError)
  })

  it("plain-text Unauthenticated ⇒ FatalError asking to check the token; the token is not leaked", async () => {
    const error = await rejection(bars(ctx("wrong-token"), daily))
    expect(error).toBeInstanceOf(FatalError)
    expect(error.message).toMatch(/apiToken/)
    expect(error.message).not.toMatch(/wrong-token/)
  })

  it("the demo token reads demo symbols only", async () => {
    expect((await bars(ctx("demo"), daily)).length).toBeGreaterThan(0)
    const nvda = await rejection(bars(ctx("demo"), { ...daily, symbol: "NVDA.US" }))
    expect(nvda).toBeInstanceOf(FatalError)
    expect(nvda.message).toMatch(/Unauthenticated/)
  })

  it("unknown ticker (404) ⇒ FatalError", async () => {
    const error = await rejection(bars(ctx(), { ...daily, symbol: "NOPE.US" }))
    expect(error).toBeInstanceOf(FatalError)
    expect(error.message).toMatch(/404/)
  })

  it("a malformed body ⇒ RetryableError, and the retried chunk is complete", async () => {
    fake.malformed(1)
    const request: HistoryRequest = { symbol: "AAPL.US", timeframe: "5m", from: NOW - 3 * DAY, to: NOW }
    expect(await rejection(bars(ctx(), request))).toBeInstanceOf(RetryableError)
    expect(await bars(ctx(), request)).toEqual(
      fake.bars("AAPL.US", "5m", request.from, request.to).filter((b) => b.ts + 300_000 <= NOW)
    )
  })

  it("unreachable server ⇒ RetryableError", async () => {
    // Port 1 is privileged and unused here, so the connection is refused (no race with other tests).
    const error = await rejection(
      bars(
        context("http://127.0.0.1:1/api", () => NOW),
        daily
      )
    )
    expect(error).toBeInstanceOf(RetryableError)
    expect(error.message).toMatch(/unreachable/)
  })

  it("an over-range request (never sent by the provider) ⇒ FatalError naming the problem", async () => {
    const api = eodhdClient(ctx(), { baseUrl: fake.baseUrl, apiToken: TOKEN })
    const from = Math.floor((NOW - 121 * DAY) / 1000)
    const error = await rejection(
      api.get("intraday/AAPL.US", { interval: "1m", from: String(from), to: String(from + 121 * 86_400) })
    )
    expect(error).toBeInstanceOf(FatalError)
    expect(error.message).toMatch(/Max period length is 120 days/)
    expect(fake.requests[0]?.status).toBe(422)
  })

  it("an unsupported timeframe ⇒ FatalError before any request", async () => {
    expect(await rejection(bars(ctx(), { ...daily, timeframe: "15m" }))).toBeInstanceOf(FatalError)
    expect(fake.requestCount()).toBe(0)
  })
})

describe("malformed rows", () => {
  it("are logged as warnings and skipped; the good rows are yielded", async () => {
    const base = context("https://eodhd.invalid/api", () => NOW)
    const ctx = { ...base, fetch: async () => new Response(fixture("eod-bad-rows.json")) }
    const got = await bars(ctx, {
      symbol: "AAPL.US",
      timeframe: "1d",
      from: Date.UTC(2022, 0, 1),
      to: Date.UTC(2022, 0, 8)
    })
    expect(got.map((b) => b.ts)).toEqual([Date.UTC(2022, 0, 3), Date.UTC(2022, 0, 5)])
    expect(got[0]).toEqual({
      ts: Date.UTC(2022, 0, 3),
      open: 177.83,
      high: 182.88,
      low: 177.71,
      close: 182.01,
      volume: 104487900
    })
    expect(base.logs.filter((l) => l.level === "warn")).toHaveLength(2)
  })
})
