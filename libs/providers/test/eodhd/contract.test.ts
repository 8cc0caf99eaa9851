/**
 * The EODHD provider against the contract suite, through the host's ProviderRunner, served by
 * the fake EODHD. 1m intraday over 130 days spans two request windows (120 days each).
 */
import eodhd from "../../src/eodhd"
import { providerContract } from "../../src/testing/contract"
import { startFakeEodhd } from "../../src/testing/eodhd/server"

const DAY = 86_400_000

providerContract("eodhd", async () => {
  const now = () => Date.UTC(2024, 5, 3, 22, 0)
  const fake = await startFakeEodhd({ now, validTokens: ["contract-token"] })
  const defaults = { apiToken: "contract-token", baseUrl: fake.baseUrl, exchanges: "US" }
  const settings: Record<string, string | number | boolean> = { ...defaults }
  const to = Date.UTC(2024, 5, 1)
  return {
    provider: eodhd,
    settings,
    now,
    timeframe: "1m",
    symbol: "AAPL.US",
    historyRange: { from: to - 130 * DAY, to },
    expectedHistory: (symbol, timeframe, from, end) => fake.bars(symbol, timeframe, from, end),
    minAssets: 5,
    expectedAsset: { symbol: "AAPL.US", assetClass: "equity", currency: "USD" },
    errorCases: [
      {
        name: "429 with Retry-After",
        arrange: () => fake.rateLimit(3, 2),
        call: "history",
        expected: "retryable"
      },
      {
        name: "402 quota used up",
        arrange: () => fake.quotaExhausted(true),
        call: "history",
        expected: "fatal"
      },
      { name: "403 plan", arrange: () => fake.forbidden(true), call: "listAssets", expected: "fatal" },
      {
        name: "plain-text Unauthenticated",
        arrange: () => {
          settings.apiToken = "wrong-token"
        },
        call: "history",
        expected: "fatal"
      },
      { name: "malformed body", arrange: () => fake.malformed(3), call: "history", expected: "retryable" }
    ],
    reset: () => {
      fake.reset()
      Object.assign(settings, defaults)
    },
    close: () => fake.close()
  }
})
