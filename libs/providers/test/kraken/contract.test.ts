/**
 * The Kraken provider against the contract suite, through the host's ProviderRunner, served by
 * the fake Kraken. The clock runs 60× fast so 1m bars close every second.
 */
import kraken from "../../src/kraken"
import { providerContract } from "../../src/testing/contract"
import { startFakeKraken } from "../../src/testing/kraken/server"

const MINUTE = 60_000

providerContract("kraken", async () => {
  const t0 = Date.UTC(2024, 0, 15, 9, 30)
  const start = Date.now()
  const now = () => t0 + (Date.now() - start) * 60
  // 300 rows per response so the 600-bar range below takes more than one page.
  const fake = await startFakeKraken({ now, updateEveryMs: 100, pageRows: 300 })
  const defaults = { restUrl: fake.restUrl, wsUrl: fake.wsUrl, closeGraceMs: 40_000 }
  const settings: Record<string, string | number | boolean> = { ...defaults }
  return {
    provider: kraken,
    settings,
    now,
    timeframe: "1m",
    symbol: "XBT/USD",
    historyRange: { from: t0 - 600 * MINUTE, to: t0 },
    expectedHistory: (symbol, timeframe, from, to) => fake.closedBars(symbol, timeframe, from, to),
    minAssets: 13,
    expectedAsset: { symbol: "XDG/USD", assetClass: "crypto", base: "DOGE", quote: "USD" },
    live: { symbols: ["XBT/USD", "ETH/USD"], closedBars: 12, timeoutMs: 20_000 },
    errorCases: [
      {
        name: "rate limited",
        arrange: () => fake.restError("EAPI:Rate limit exceeded", 3),
        call: "history",
        expected: "retryable"
      },
      {
        name: "service unavailable",
        arrange: () => fake.restError("EService:Unavailable", 3),
        call: "listAssets",
        expected: "retryable"
      },
      { name: "HTTP 503", arrange: () => fake.restHttpError(503, 3), call: "history", expected: "retryable" },
      {
        name: "unknown pair",
        arrange: () => fake.restError("EQuery:Unknown asset pair", 3),
        call: "history",
        expected: "fatal"
      },
      {
        name: "a restUrl that is not a URL",
        arrange: () => {
          settings.restUrl = "not a url"
        },
        call: "listAssets",
        expected: "fatal"
      }
    ],
    reset: () => {
      fake.reset()
      Object.assign(settings, defaults)
    },
    close: () => fake.close()
  }
})
