/**
 * Kraken spot market data: pairs from REST AssetPairs, history from REST OHLC, live bars from
 * the WS v2 `ohlc` channel. Base URLs are settings so tests can point the same code at the fake.
 */
import { type AssetInfo, defineProvider, FatalError, type ProviderContext } from "../sdk"
import { fetchAssetPairs, ohlcHistory } from "./rest"
import { assetOfPair, KrakenSymbols, krakenTimeframes } from "./symbols"
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

/** Pair listings per REST base URL, so `history` can turn a symbol into Kraken's altname. */
const listings = new Map<string, { readonly at: number; readonly symbols: KrakenSymbols }>()
const LISTING_TTL_MS = 60 * 60_000
/** A symbol missing from a listing this old triggers one fresh listing before giving up. */
const LISTING_RECHECK_MS = 60_000

const listing = async (ctx: ProviderContext, restUrl: string, maxAgeMs: number): Promise<KrakenSymbols> => {
  const cached = listings.get(restUrl)
  if (cached !== undefined && ctx.now() - cached.at < maxAgeMs) return cached.symbols
  const symbols = new KrakenSymbols(await fetchAssetPairs(ctx, restUrl))
  listings.set(restUrl, { at: ctx.now(), symbols })
  return symbols
}

const altnameOf = async (ctx: ProviderContext, restUrl: string, symbol: string): Promise<string> => {
  const pair =
    (await listing(ctx, restUrl, LISTING_TTL_MS)).resolve(symbol) ??
    (await listing(ctx, restUrl, LISTING_RECHECK_MS)).resolve(symbol)
  if (pair === undefined) throw new FatalError(`Kraken lists no pair named ${symbol}`)
  return pair.altname
}

export const kraken = defineProvider({
  name: "kraken",
  displayName: "Kraken",
  version: "1.0.0",
  timeframes: krakenTimeframes,
  settings,
  // Public REST is about 1 request per second per IP (protocols.md §1.8).
  rateLimit: { requestsPerSecond: 1, burst: 1 },

  async listAssets(ctx) {
    const pairs = await fetchAssetPairs(ctx, ctx.settings.restUrl)
    listings.set(ctx.settings.restUrl, { at: ctx.now(), symbols: new KrakenSymbols(pairs) })
    return pairs.map(assetOfPair).filter((a): a is AssetInfo => a !== undefined)
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
