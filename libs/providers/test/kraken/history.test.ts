import { readFileSync } from "node:fs"
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import kraken from "../../src/kraken"
import { FatalError, type HistoryPage, type HistoryRequest, RetryableError } from "../../src/sdk"
import { type FakeKraken, startFakeKraken } from "../../src/testing/kraken/server"
import { testContext } from "../../src/testing/testContext"

const MINUTE = 60_000
/** A fixed clock, 25 s into a minute: the current 1m bar is unfinished. */
const NOW = Date.UTC(2024, 0, 15, 12, 0) + 25_000
const CURRENT = NOW - 25_000

let fake: FakeKraken
beforeAll(async () => {
  fake = await startFakeKraken({ now: () => NOW, pageRows: 300 })
})
afterAll(() => fake.close())
beforeEach(() => fake.reset())

const context = () =>
  testContext<typeof kraken.settings>(
    { restUrl: fake.restUrl, wsUrl: fake.wsUrl, closeGraceMs: 5_000 },
    { now: () => NOW }
  )

const pagesOf = async (
  ctx: ReturnType<typeof context>,
  request: HistoryRequest
): Promise<Array<HistoryPage>> => {
  const pages: Array<HistoryPage> = []
  for await (const page of kraken.history(ctx, request)) pages.push(page)
  return pages
}

describe("Kraken provider against the fake: assets", () => {
  it("lists every pair but the dark pool, with canonical base/quote and the v2 name", async () => {
    const assets = await kraken.listAssets(context())
    expect(assets).toHaveLength(13)
    const bySymbol = new Map(assets.map((a) => [a.symbol, a]))
    expect(bySymbol.get("XBT/USD")).toMatchObject({
      base: "BTC",
      quote: "USD",
      status: "active",
      extra: { restPair: "XXBTZUSD", altname: "XBTUSD", wsV2: "BTC/USD" }
    })
    expect(bySymbol.get("XDG/USD")).toMatchObject({ base: "DOGE", extra: { wsV2: "DOGE/USD" } })
    expect(bySymbol.get("SOL/USD")).toMatchObject({ status: "active" })
    expect(bySymbol.get("RENDER/USD")).toMatchObject({ extra: { altname: "RENDERUSD" } })
    expect(assets.some((a) => String(a.extra?.restPair).endsWith(".d"))).toBe(false)
  })
})

describe("Kraken provider against the fake: history", () => {
  it("pages by `last` and yields every closed bar exactly once, in order, never the unfinished one", async () => {
    const ctx = context()
    const request = {
      symbol: "XBT/USD",
      timeframe: "1m",
      from: CURRENT - 700 * MINUTE,
      to: NOW + 10 * MINUTE
    } as const
    const requestsBefore = fake.stats.restRequests
    const pages = await pagesOf(ctx, request)
    expect(pages.length).toBeGreaterThanOrEqual(3)
    expect(fake.stats.restRequests - requestsBefore).toBeGreaterThanOrEqual(3)
    const bars = pages.flatMap((p) => p.bars)
    expect(bars).toEqual(fake.closedBars("XBT/USD", "1m", request.from, request.to))
    expect(bars).toHaveLength(700)
    expect(bars.at(-1)?.ts).toBe(CURRENT - MINUTE)
    expect(bars.every((b, i) => i === 0 || b.ts === (bars[i - 1]?.ts ?? 0) + MINUTE)).toBe(true)
    // No-trade minutes come back as flat bars without a vwap.
    const flat = bars.filter((b) => b.trades === 0)
    expect(flat.length).toBeGreaterThan(0)
    expect(flat.every((b) => b.volume === 0 && b.vwap === undefined && b.open === b.close)).toBe(true)
  })

  it("yields only [from, to) for other symbols' names and timeframes", async () => {
    const from = CURRENT - 10 * 3_600_000
    const to = CURRENT - 3 * 3_600_000
    const bars = (await pagesOf(context(), { symbol: "DOGE/USD", timeframe: "1h", from, to })).flatMap(
      (p) => p.bars
    )
    expect(bars).toEqual(fake.closedBars("XDGUSD", "1h", from, to))
    expect(bars).toHaveLength(7)
  })

  it("yields what exists when the range starts before the ~720 rows Kraken keeps, and says so", async () => {
    const ctx = context()
    const from = CURRENT - 2_000 * MINUTE
    const bars = (await pagesOf(ctx, { symbol: "ETH/USD", timeframe: "1m", from, to: CURRENT })).flatMap(
      (p) => p.bars
    )
    expect(bars).toHaveLength(719)
    expect(bars[0]?.ts).toBe(CURRENT - 719 * MINUTE)
    expect(ctx.logs.some((l) => l.level === "info" && l.message.includes("720"))).toBe(true)
  })

  it("classifies errors: rate limits and outages retry, unknown pairs are fatal", async () => {
    const request = { symbol: "XBT/USD", timeframe: "1m", from: CURRENT - 5 * MINUTE, to: CURRENT } as const
    await pagesOf(context(), request) // warm the pair listing: the next request is the OHLC one
    for (const error of [
      "EAPI:Rate limit exceeded",
      "EService:Unavailable",
      "EService:Busy",
      "EGeneral:Too many requests"
    ]) {
      fake.restError(error)
      await expect(pagesOf(context(), request)).rejects.toBeInstanceOf(RetryableError)
    }
    fake.restError("EService: Throttled: " + String(NOW / 1_000 + 30))
    await expect(pagesOf(context(), request)).rejects.toMatchObject({
      name: "RetryableError",
      retryAfterMs: 30_000
    })
    fake.restHttpError(503)
    await expect(pagesOf(context(), request)).rejects.toBeInstanceOf(RetryableError)
    fake.restError("EQuery:Unknown asset pair")
    await expect(pagesOf(context(), request)).rejects.toBeInstanceOf(FatalError)
    fake.restError("EGeneral:Invalid arguments")
    await expect(pagesOf(context(), request)).rejects.toBeInstanceOf(FatalError)
    await expect(pagesOf(context(), { ...request, symbol: "NOPE/USD" })).rejects.toBeInstanceOf(FatalError)
    // After the faults the same request works again.
    expect((await pagesOf(context(), request)).flatMap((p) => p.bars)).toHaveLength(5)
  })

  it("an unreachable server is retryable", async () => {
    const ctx = testContext<typeof kraken.settings>({
      restUrl: "http://127.0.0.1:9",
      wsUrl: fake.wsUrl,
      closeGraceMs: 0
    })
    await expect(kraken.listAssets(ctx)).rejects.toBeInstanceOf(RetryableError)
  })
})

describe("Kraken provider on recorded responses", () => {
  const recorded = (name: string) =>
    readFileSync(new URL(`../fixtures/kraken/${name}`, import.meta.url), "utf8")
  const stubbed = (ohlcBody: string) => {
    const ctx = testContext<typeof kraken.settings>({
      restUrl: "http://recorded.invalid",
      wsUrl: "",
      closeGraceMs: 0
    })
    const fetch = async (input: string | URL) =>
      new Response(String(input).includes("AssetPairs") ? recorded("rest_asset_pairs.json") : ohlcBody)
    return { ...ctx, fetch }
  }
  const request = { symbol: "XBT/USD", timeframe: "1m", from: 1696436640_000, to: 1696436880_000 } as const

  it("skips a malformed row with a warning and keeps the rest", async () => {
    const ctx = stubbed(recorded("rest_ohlc_malformed_row.json"))
    const bars = (await pagesOf(ctx, request)).flatMap((p) => p.bars)
    expect(bars.map((b) => b.ts)).toEqual([1696436640_000])
    expect(ctx.logs.some((l) => l.level === "warn" && l.message.includes("malformed OHLC row"))).toBe(true)
  })

  it("retries a wholly malformed response instead of writing nothing silently", async () => {
    for (const body of [
      "<html>502</html>",
      '{"error":[],"result":{"XXBTZUSD":"nope","last":1}}',
      '{"error":[],"result":{"XXBTZUSD":[[1,"x"],[2,"y"]],"last":2}}'
    ])
      await expect(pagesOf(stubbed(body), request)).rejects.toBeInstanceOf(RetryableError)
  })

  it("drops the recorded unfinished last row", async () => {
    const bars = (await pagesOf(stubbed(recorded("rest_ohlc.json")), request)).flatMap((p) => p.bars)
    expect(bars.map((b) => b.ts / 1_000)).toEqual([1696436640, 1696436700, 1696436760])
  })
})
