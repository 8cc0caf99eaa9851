/**
 * Kraken spot market data: pairs from REST AssetPairs, history from REST OHLC, live bars from
 * the WS v2 `ohlc` channel. Base URLs are settings so tests can point the same code at the fake.
 */
import { defineProvider, FatalError, type ProviderContext } from "../sdk"
import { listPairAssets, resolvePair } from "./listing"
import { ohlcHistory } from "./rest"
import { krakenTimeframes } from "./symbols"
import { krakenLive } from "./ws"

const settings = {
  restUrl: {
    type: "url",
    label: "REST base URL",
    description: "Kraken public REST API, without /0/public",
    default: "https://api.kraken.com"
  },
  wsUrl: {
    type: "url",
    label: "WebSocket URL",
    description: "Kraken WebSocket API v2",
    default: "wss://ws.kraken.com/v2"
  },
  closeGraceMs: {
    type: "number",
    label: "Bar close grace (ms)",
    description: "How long after a bar's end to wait for late trades before treating it as closed",
    default: 5_000
  }
} as const

const altnameOf = async (ctx: ProviderContext, restUrl: string, symbol: string): Promise<string> => {
  const pair = await resolvePair(ctx, restUrl, symbol)
  if (pair === undefined) throw new FatalError(`Kraken lists no pair named ${symbol}`)
  return pair.altname
}

export const kraken = defineProvider({
  name: "kraken",
  displayName: "Kraken",
  version: "1.0.0",
  timeframes: krakenTimeframes,
  settings,
  // Public REST is about 1 request per second per IP (Kraken support, "What are the API rate
  // limits?"; docs.kraken.com/api/docs/guides/spot-rest-ratelimits covers the private counter).
  rateLimit: { requestsPerSecond: 1, burst: 1 },

  listAssets(ctx) {
    return listPairAssets(ctx, ctx.settings.restUrl)
  },

  async *history(ctx, request) {
    const altname = await altnameOf(ctx, ctx.settings.restUrl, request.symbol)
    yield* ohlcHistory(ctx, ctx.settings.restUrl, altname, request)
  },

  live(ctx, request) {
    return krakenLive(ctx, request, { wsUrl: ctx.settings.wsUrl, closeGraceMs: ctx.settings.closeGraceMs })
  }
})

export default kraken
