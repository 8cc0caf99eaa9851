/**
 * The synthetic provider against the contract suite. It is its own fake: the expected bars are
 * the random walk with the same seed. The clock runs 60× fast so 1m bars close every second.
 */

import { syntheticProvider } from "../../src/synthetic/provider"
import { barsBetween } from "../../src/synthetic/randomWalk"
import { providerContract } from "../../src/testing/contract"

const MINUTE = 60_000
const SEED = 7

providerContract("synthetic", async () => {
  const t0 = Date.UTC(2024, 0, 15, 9, 30)
  const start = Date.now()
  const defaults = { symbols: "SYN/USD,SYN/EUR,ACME", seed: SEED, updateMs: 100 }
  const settings: Record<string, string | number | boolean> = { ...defaults }
  return {
    provider: syntheticProvider,
    settings,
    now: () => t0 + (Date.now() - start) * 60,
    timeframe: "1m",
    symbol: "SYN/EUR",
    historyRange: { from: t0 - 2_500 * MINUTE, to: t0 },
    expectedHistory: (symbol, timeframe, from, to) =>
      barsBetween({ seed: SEED }, symbol, timeframe, from, to),
    minAssets: 3,
    expectedAsset: { symbol: "SYN/EUR", assetClass: "crypto", base: "SYN", quote: "EUR" },
    live: { symbols: ["SYN/USD", "ACME"], closedBars: 2, timeoutMs: 15_000 },
    errorCases: [
      {
        name: "a symbol the settings do not list",
        arrange: () => {
          settings.symbols = "ACME"
        },
        call: "history",
        expected: "fatal"
      },
      {
        name: "a seed that is not a number",
        arrange: () => {
          settings.seed = "forty-two"
        },
        call: "listAssets",
        expected: "fatal"
      }
    ],
    reset: () => {
      Object.assign(settings, defaults)
    },
    close: async () => {}
  }
})
