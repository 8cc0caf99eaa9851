/**
 * The fake's pair listing: realistic AssetPairs rows
 * (docs.kraken.com/api/docs/rest-api/get-tradable-asset-pairs) with the quirks a client must
 * survive — X/Z-prefixed keys, `XBT`/`XDG` in `wsname` (v1 spelling), a dark-pool `.d` key, a
 * slashless new key without `wsname`, and a row without `status`. The WS v2 name of each pair is
 * written out here by hand, independently of the provider's mapping, so the fake checks that
 * mapping instead of mirroring it.
 */

export interface FakePair {
  /** REST result key. */
  readonly key: string
  /** WS v2 symbol; undefined where the pair has no public market data (dark pool). */
  readonly v2: string | undefined
  /** Price level for the random walk. */
  readonly basePrice: number
  readonly row: Readonly<Record<string, unknown>>
}

const row = (
  altname: string,
  wsname: string | undefined,
  base: string,
  quote: string,
  status: string | undefined,
  pairDecimals = 4
): Readonly<Record<string, unknown>> => ({
  altname,
  ...(wsname === undefined ? {} : { wsname }),
  aclass_base: "currency",
  base,
  aclass_quote: "currency",
  quote,
  lot: "unit",
  cost_decimals: 5,
  pair_decimals: pairDecimals,
  lot_decimals: 8,
  lot_multiplier: 1,
  leverage_buy: [],
  leverage_sell: [],
  fees: [
    [0, 0.26],
    [50000, 0.24]
  ],
  fees_maker: [
    [0, 0.16],
    [50000, 0.14]
  ],
  fee_volume_currency: "ZUSD",
  margin_call: 80,
  margin_stop: 40,
  ordermin: "0.0001",
  costmin: "0.5",
  tick_size: "0.0001",
  ...(status === undefined ? {} : { status })
})

export const fakePairs: ReadonlyArray<FakePair> = [
  {
    key: "XXBTZUSD",
    v2: "BTC/USD",
    basePrice: 60_000,
    row: row("XBTUSD", "XBT/USD", "XXBT", "ZUSD", "online")
  },
  {
    key: "XXBTZEUR",
    v2: "BTC/EUR",
    basePrice: 55_000,
    row: row("XBTEUR", "XBT/EUR", "XXBT", "ZEUR", "online")
  },
  {
    key: "XETHZUSD",
    v2: "ETH/USD",
    basePrice: 3_000,
    row: row("ETHUSD", "ETH/USD", "XETH", "ZUSD", "online")
  },
  {
    key: "XETHXXBT",
    v2: "ETH/BTC",
    basePrice: 0.05,
    row: row("ETHXBT", "ETH/XBT", "XETH", "XXBT", "online")
  },
  { key: "XDGUSD", v2: "DOGE/USD", basePrice: 0.12, row: row("XDGUSD", "XDG/USD", "XXDG", "ZUSD", "online") },
  { key: "XLTCZUSD", v2: "LTC/USD", basePrice: 80, row: row("LTCUSD", "LTC/USD", "XLTC", "ZUSD", "online") },
  {
    key: "XXRPZUSD",
    v2: "XRP/USD",
    basePrice: 0.6,
    row: row("XRPUSD", "XRP/USD", "XXRP", "ZUSD", "post_only")
  },
  { key: "SOLUSD", v2: "SOL/USD", basePrice: 150, row: row("SOLUSD", "SOL/USD", "SOL", "ZUSD", undefined) },
  { key: "DOTUSD", v2: "DOT/USD", basePrice: 7, row: row("DOTUSD", "DOT/USD", "DOT", "ZUSD", "cancel_only") },
  {
    key: "ADAEUR",
    v2: "ADA/EUR",
    basePrice: 0.45,
    row: row("ADAEUR", "ADA/EUR", "ADA", "ZEUR", "limit_only")
  },
  {
    key: "USDTZUSD",
    v2: "USDT/USD",
    basePrice: 1,
    row: row("USDTUSD", "USDT/USD", "USDT", "ZUSD", "online")
  },
  {
    key: "XTZUSD",
    v2: "XTZ/USD",
    basePrice: 0.9,
    row: row("XTZUSD", "XTZ/USD", "XTZ", "ZUSD", "reduce_only")
  },
  {
    key: "RENDERUSD",
    v2: "RENDER/USD",
    basePrice: 7.5,
    row: row("RENDERUSD", undefined, "RENDER", "ZUSD", "online")
  },
  {
    key: "XXBTZUSD.d",
    v2: undefined,
    basePrice: 60_000,
    row: row("XBTUSD.d", undefined, "XXBT", "ZUSD", "online")
  }
]

/**
 * `count` generated pairs (`S0001/USD`, …) after the real ones, for load tests that need more
 * symbols than Kraken's dozen here. Plain names (no X/Z prefixes), each with its own price level.
 */
export const syntheticPairs = (count: number): Array<FakePair> =>
  Array.from({ length: count }, (_, i) => {
    const base = `S${String(i + 1).padStart(4, "0")}`
    return {
      key: `${base}USD`,
      v2: `${base}/USD`,
      basePrice: 1 + ((i * 37) % 997),
      row: row(`${base}USD`, `${base}/USD`, base, "ZUSD", "online")
    }
  })

/** The pairs one fake serves, indexed by every name (a linear search per frame is too slow for thousands). */
export class FakePairs {
  private readonly byRest = new Map<string, FakePair>()
  private readonly byWs = new Map<string, FakePair>()
  private readonly byAny = new Map<string, FakePair>()

  constructor(readonly all: ReadonlyArray<FakePair>) {
    // The first pair of a name wins, as `find` over the list did.
    const add = (map: Map<string, FakePair>, name: unknown, pair: FakePair) => {
      if (typeof name === "string" && !map.has(name)) map.set(name, pair)
    }
    for (const p of all) {
      for (const name of [p.key, p.row.altname]) add(this.byRest, name, p)
      add(this.byWs, p.v2, p)
      for (const name of [p.key, p.v2, p.row.altname, p.row.wsname]) add(this.byAny, name, p)
    }
  }

  /** The pair REST answers for `pair=`: Kraken accepts the altname or the result key. */
  rest(name: string): FakePair | undefined {
    return this.byRest.get(name)
  }

  /** The pair WS v2 serves for a symbol: only v2 names (`XBT/USD` is unknown on v2). */
  ws(symbol: string): FakePair | undefined {
    return this.byWs.get(symbol)
  }

  /** Any name of a pair (key, altname, wsname, v2): for ground-truth lookups in tests. */
  any(name: string): FakePair | undefined {
    return this.byAny.get(name)
  }
}

const defaultPairs = new FakePairs(fakePairs)

/** The pair REST answers for `pair=`: Kraken accepts the altname or the result key. */
export const restPair = (name: string): FakePair | undefined => defaultPairs.rest(name)

/** The pair WS v2 serves for a symbol: only v2 names (`XBT/USD` is unknown on v2). */
export const wsPair = (symbol: string): FakePair | undefined => defaultPairs.ws(symbol)

/** Any name of a pair (key, altname, wsname, v2): for ground-truth lookups in tests. */
export const anyPair = (name: string): FakePair | undefined => defaultPairs.any(name)
