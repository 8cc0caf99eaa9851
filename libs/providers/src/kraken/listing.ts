/**
 * Kraken's pair listing (REST AssetPairs) per REST base URL, cached for the provider and the
 * broker alike: both turn a symbol into Kraken's pair names with it.
 */
import type { AssetInfo, ProviderContext } from "../sdk"
import type { KrakenPair } from "./parse"
import { fetchAssetPairs } from "./rest"
import { assetOfPair, KrakenSymbols } from "./symbols"

const listings = new Map<string, { readonly at: number; readonly symbols: KrakenSymbols }>()
const LISTING_TTL_MS = 60 * 60_000
/** A symbol missing from a listing this old triggers one fresh listing before giving up. */
const LISTING_RECHECK_MS = 60_000

/** Keeps a listing just fetched (e.g. by `listAssets`). */
export const rememberListing = (ctx: ProviderContext, restUrl: string, pairs: ReadonlyArray<KrakenPair>) => {
  const symbols = new KrakenSymbols(pairs)
  listings.set(restUrl, { at: ctx.now(), symbols })
  return symbols
}

/** The listing, fetched again when older than `maxAgeMs`. */
export const pairListing = async (
  ctx: ProviderContext,
  restUrl: string,
  maxAgeMs = LISTING_TTL_MS
): Promise<KrakenSymbols> => {
  const cached = listings.get(restUrl)
  if (cached !== undefined && ctx.now() - cached.at < maxAgeMs) return cached.symbols
  return rememberListing(ctx, restUrl, await fetchAssetPairs(ctx, restUrl))
}

/** The pair of a symbol by any of its names; a recent listing is asked again before saying no. */
export const resolvePair = async (
  ctx: ProviderContext,
  restUrl: string,
  symbol: string
): Promise<KrakenPair | undefined> =>
  (await pairListing(ctx, restUrl)).resolve(symbol) ??
  (await pairListing(ctx, restUrl, LISTING_RECHECK_MS)).resolve(symbol)

/** A fresh listing as assets (`listAssets` of the provider and the broker), kept for lookups. */
export const listPairAssets = async (ctx: ProviderContext, restUrl: string): Promise<Array<AssetInfo>> => {
  const pairs = await fetchAssetPairs(ctx, restUrl)
  rememberListing(ctx, restUrl, pairs)
  return pairs.map(assetOfPair).filter((a): a is AssetInfo => a !== undefined)
}
