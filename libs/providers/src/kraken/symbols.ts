/**
 * Kraken's names for things: asset codes, pair names on REST and on WS v2, and intervals.
 *
 * A pair has four names (docs.kraken.com/api/docs/rest-api/get-tradable-asset-pairs,
 * docs.kraken.com/api/docs/websocket-v2/ohlc): the REST result key (`XXBTZUSD`), the `altname`
 * (`XBTUSD`), the REST `wsname` (`XBT/USD`, legacy v1 spelling) and the WS v2 symbol (`BTC/USD`).
 * Quasar's provider symbol is the `wsname`; the others travel in `extra`.
 */
import type { AssetInfo, Timeframe } from "../sdk"
import type { KrakenPair } from "./parse"

/**
 * Kraken's legacy asset codes and their canonical names. An explicit table, never a rule like
 * "strip a leading X/Z": `XTZ` (Tezos) and `ZEC` (Zcash) are real unprefixed codes.
 */
const ASSET_CODES: Readonly<Record<string, string>> = {
  XXBT: "BTC",
  XBT: "BTC",
  XXDG: "DOGE",
  XDG: "DOGE",
  XETH: "ETH",
  XETC: "ETC",
  XLTC: "LTC",
  XXRP: "XRP",
  XXLM: "XLM",
  XXMR: "XMR",
  XZEC: "ZEC",
  XREP: "REP",
  XMLN: "MLN",
  ZUSD: "USD",
  ZEUR: "EUR",
  ZGBP: "GBP",
  ZCAD: "CAD",
  ZJPY: "JPY",
  ZAUD: "AUD",
  ZCHF: "CHF"
}

/** The canonical code of a Kraken asset code (`XXBT` → `BTC`, `XDG` → `DOGE`, `SOL` → `SOL`). */
export const canonicalAsset = (code: string): string => ASSET_CODES[code] ?? code

/**
 * The WS v2 symbol for a REST `wsname` or a provider symbol: v2 rejects the v1 spelling `XBT/USD`
 * and wants `BTC/USD` (docs.kraken.com/api/docs/websocket-v2), on both sides of the slash.
 * Idempotent, so a v2 name maps to itself. A name without a slash is returned unchanged (the server
 * will say no).
 */
export const wsV2Symbol = (name: string): string =>
  name.includes("/") ? name.split("/").map(canonicalAsset).join("/") : name

/** Dark-pool pairs (`XXBTZUSD.d`) have no public market data (github.com/bmoscon/cryptofeed skips them). */
export const isDarkPool = (restPair: string): boolean => restPair.endsWith(".d")

/**
 * The provider symbol of a pair: its `wsname`, or for pairs listed without one (new slashless
 * keys such as `RENDERUSD`) the canonical `BASE/QUOTE`, which is also what WS v2 accepts.
 */
export const providerSymbol = (pair: KrakenPair): string =>
  pair.wsname ?? `${canonicalAsset(pair.base)}/${canonicalAsset(pair.quote)}`

/**
 * A listed pair as an asset, or undefined for pairs without market data. Every listed status
 * (`online`, `cancel_only`, `post_only`, ..., or none at all on ~13% of rows) counts as active:
 * a pair is delisted only when it leaves the listing, which the Registry detects.
 */
export const assetOfPair = (pair: KrakenPair): AssetInfo | undefined => {
  if (isDarkPool(pair.restPair)) return undefined
  const base = canonicalAsset(pair.base)
  const quote = canonicalAsset(pair.quote)
  const symbol = providerSymbol(pair)
  return {
    symbol,
    name: `${base}/${quote}`,
    assetClass: "crypto",
    base,
    quote,
    exchange: "Kraken",
    currency: quote,
    status: "active",
    extra: {
      restPair: pair.restPair,
      altname: pair.altname,
      wsV2: wsV2Symbol(symbol),
      krakenStatus: pair.status ?? null
    }
  }
}

/** Looks a pair up by any of its names: provider symbol, WS v2 symbol, altname or REST key. */
export class KrakenSymbols {
  private readonly byName = new Map<string, KrakenPair>()

  /** Every listed pair but the dark pools. */
  readonly pairs: ReadonlyArray<KrakenPair>

  constructor(pairs: ReadonlyArray<KrakenPair>) {
    this.pairs = pairs.filter((pair) => !isDarkPool(pair.restPair))
    for (const pair of this.pairs) {
      const symbol = providerSymbol(pair)
      for (const name of [pair.restPair, pair.altname, wsV2Symbol(symbol), symbol])
        this.byName.set(name, pair)
    }
  }

  resolve(symbol: string): KrakenPair | undefined {
    return this.byName.get(symbol) ?? this.byName.get(wsV2Symbol(symbol))
  }
}

/**
 * Kraken's `interval` parameter, in minutes (docs.kraken.com/api/docs/websocket-v2/ohlc,
 * docs.kraken.com/api/docs/rest-api/get-ohlc-data).
 */
const INTERVAL_MINUTES: Readonly<Record<Timeframe, number>> = {
  "1m": 1,
  "5m": 5,
  "15m": 15,
  "30m": 30,
  "1h": 60,
  "4h": 240,
  "1d": 1_440,
  "1w": 10_080
}

export const krakenInterval = (timeframe: Timeframe): number => INTERVAL_MINUTES[timeframe]

export const krakenTimeframes: ReadonlyArray<Timeframe> = ["1m", "5m", "15m", "30m", "1h", "4h", "1d", "1w"]
