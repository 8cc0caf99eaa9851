/**
 * Suggested mappings: assets that different providers list for the same instrument, with the
 * common symbol they could share. Crypto pairs match on normalised base/quote (Kraken `XBT/USD`
 * ↔ EODHD `BTC-USD.CC` ⇒ `BTC/USD`); equities on ISIN, or on the same ticker on the same exchange
 * (⇒ the bare ticker, `AAPL`). A suggestion never breaks a uniqueness rule and never touches a
 * symbol that is already mapped; when the evidence is ambiguous nothing is suggested.
 */
import { MappingSuggestion } from "@quasar/domain"
import { Array as Arr, Option, Schema } from "effect"

/** An active asset, as suggestions see it. */
export interface SuggestionAsset {
  readonly provider: string
  readonly symbol: string
  readonly assetClass: string
  readonly base: string | null
  readonly quote: string | null
  readonly exchange: string | null
  readonly isin: string | null
}

export interface StoredMapping {
  readonly commonSymbol: string
  readonly source: string
  readonly symbol: string
}

const key = (a: string, b: string) => `${a}\u0000${b}`

/** Both directions of the mapping rules, for checking many candidates without a query each. */
export interface MappingIndex {
  readonly commonOf: (source: string, symbol: string) => string | undefined
  readonly symbolOf: (commonSymbol: string, source: string) => string | undefined
  readonly add: (m: StoredMapping) => void
}

export const mappingIndex = (mappings: Iterable<StoredMapping>): MappingIndex => {
  const common = new Map<string, string>()
  const symbol = new Map<string, string>()
  const add = (m: StoredMapping) => {
    common.set(key(m.source, m.symbol), m.commonSymbol)
    symbol.set(key(m.commonSymbol, m.source), m.symbol)
  }
  for (const m of mappings) add(m)
  return {
    commonOf: (source, sym) => common.get(key(source, sym)),
    symbolOf: (commonSymbol, source) => symbol.get(key(commonSymbol, source)),
    add
  }
}

/**
 * Legacy currency codes that some venues still use. Built-in providers already report
 * canonical codes (libs/providers/src/kraken/symbols.ts); this covers uploaded ones that do not.
 */
const ALIASES: Readonly<Record<string, string>> = { XBT: "BTC", XDG: "DOGE" }
const currency = (code: string) => {
  const c = code.trim().toUpperCase()
  return ALIASES[c] ?? c
}

/** `BASE/QUOTE` from the asset's fields, else from a `BASE/QUOTE` or `BASE-QUOTE.EXCH` symbol. */
const pairOf = (a: SuggestionAsset): string | undefined => {
  if (a.base && a.quote) return `${currency(a.base)}/${currency(a.quote)}`
  const m = /^([A-Za-z0-9]+)[/-]([A-Za-z0-9]+)(\.[A-Za-z]+)?$/.exec(a.symbol)
  return m?.[1] && m[2] ? `${currency(m[1])}/${currency(m[2])}` : undefined
}

/** `AAPL.US` → `AAPL`, `NASDAQ:AAPL` → `AAPL`; a one-letter suffix is a share class (`BRK.B`) and stays. */
export const bareTicker = (symbol: string) =>
  symbol
    .toUpperCase()
    .replace(/^[A-Z]+:/, "")
    .replace(/\.[A-Z]{2,}$/, "")

const isinOf = (a: SuggestionAsset) => {
  const isin = a.isin?.trim().toUpperCase()
  return isin && /^[A-Z]{2}[A-Z0-9]{9}[0-9]$/.test(isin) ? isin : undefined
}

interface Candidate {
  readonly commonSymbol: string
  readonly source: string
  readonly symbol: string
  readonly reason: string
}

const groupBy = (
  assets: ReadonlyArray<SuggestionAsset>,
  keyOf: (a: SuggestionAsset) => string | undefined
) => {
  const groups = new Map<string, Array<SuggestionAsset>>()
  for (const a of assets) {
    const k = keyOf(a)
    if (k !== undefined) groups.set(k, [...(groups.get(k) ?? []), a])
  }
  return groups
}

/**
 * Candidates from assets believed to be one instrument. Listed by one provider only: nothing
 * to map. Members already mapped fix the common symbol (several different ones: ambiguous).
 * A provider with two members would need one common symbol for two symbols: skipped.
 */
const fromGroup = (
  index: MappingIndex,
  members: ReadonlyArray<SuggestionAsset>,
  fallback: string | undefined,
  reason: (other: SuggestionAsset) => string
): Array<Candidate> => {
  const perProvider = new Map<string, number>()
  for (const m of members) perProvider.set(m.provider, (perProvider.get(m.provider) ?? 0) + 1)
  if (perProvider.size < 2) return []
  const mapped = Arr.dedupe(members.flatMap((m) => index.commonOf(m.provider, m.symbol) ?? []))
  const common = mapped.length > 1 ? undefined : (mapped[0] ?? fallback)
  if (common === undefined) return []
  return members
    .filter((m) => perProvider.get(m.provider) === 1 && index.commonOf(m.provider, m.symbol) === undefined)
    .map((m) => {
      const other = members.find((o) => o.provider !== m.provider) ?? m
      return { commonSymbol: common, source: m.provider, symbol: m.symbol, reason: reason(other) }
    })
}

const cryptoCandidates = (index: MappingIndex, assets: ReadonlyArray<SuggestionAsset>) =>
  [
    ...groupBy(
      assets.filter((a) => a.assetClass === "crypto"),
      pairOf
    )
  ].flatMap(([pair, members]) =>
    fromGroup(index, members, pair, (o) => `same pair ${pair} as ${o.provider} ${o.symbol}`)
  )

const equityCandidates = (index: MappingIndex, assets: ReadonlyArray<SuggestionAsset>) => {
  const equities = assets.filter((a) => a.assetClass === "equity" || a.assetClass === "etf")
  // ISIN first: it is the stronger evidence, and the first candidate for a symbol wins.
  const byIsin = [...groupBy(equities, isinOf)].flatMap(([isin, members]) => {
    const tickers = Arr.dedupe(members.map((m) => bareTicker(m.symbol)))
    return fromGroup(index, members, tickers.length === 1 ? tickers[0] : undefined, (o) => {
      return `same ISIN ${isin} as ${o.provider} ${o.symbol}`
    })
  })
  const byTicker = [
    ...groupBy(equities, (a) =>
      a.exchange?.trim() ? key(bareTicker(a.symbol), a.exchange.trim().toUpperCase()) : undefined
    )
  ].flatMap(([k, members]) => {
    const [ticker = "", exchange = ""] = k.split("\u0000")
    return fromGroup(
      index,
      members,
      ticker,
      (o) => `same ticker ${ticker} on ${exchange} as ${o.provider} ${o.symbol}`
    )
  })
  return [...byIsin, ...byTicker]
}

const decodeSuggestion = Schema.decodeOption(MappingSuggestion)

/** Every applicable suggestion, ordered by common symbol, source and symbol. */
export const suggest = (
  assets: ReadonlyArray<SuggestionAsset>,
  mappings: ReadonlyArray<StoredMapping>
): Array<typeof MappingSuggestion.Type> => {
  const index = mappingIndex(mappings)
  const seen = new Set<string>()
  const candidates = [...equityCandidates(index, assets), ...cryptoCandidates(index, assets)].filter((c) => {
    const k = key(c.source, c.symbol)
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
  // Two instruments suggesting the same common symbol to one source would break the second rule.
  const claims = new Map<string, number>()
  for (const c of candidates)
    claims.set(key(c.commonSymbol, c.source), (claims.get(key(c.commonSymbol, c.source)) ?? 0) + 1)
  return candidates
    .filter(
      (c) =>
        claims.get(key(c.commonSymbol, c.source)) === 1 &&
        index.symbolOf(c.commonSymbol, c.source) === undefined
    )
    .flatMap((c) => Option.toArray(decodeSuggestion(c)))
    .sort(
      (a, b) =>
        a.commonSymbol.localeCompare(b.commonSymbol) ||
        a.source.localeCompare(b.source) ||
        a.symbol.localeCompare(b.symbol)
    )
}
