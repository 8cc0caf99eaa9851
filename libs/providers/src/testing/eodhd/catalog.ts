/**
 * What the fake EODHD lists: a small, realistic symbol list per exchange (`US`, `CC`, `FOREX`, rows
 * shaped as in eodhd.com/financial-apis/exchanges-api-list-of-tickers-and-trading-hours, `Isin`
 * nullable) and the exchanges list.
 */

export interface SymbolRow {
  readonly Code: string
  readonly Name: string
  readonly Country: string
  readonly Exchange: string
  readonly Currency: string
  readonly Type: string
  readonly Isin: string | null
}

export interface ExchangeRow {
  readonly Name: string
  readonly Code: string
  readonly OperatingMIC: string | null
  readonly Country: string
  readonly Currency: string
  readonly CountryISO2: string
  readonly CountryISO3: string
}

const us = (Code: string, Name: string, Exchange: string, Type: string, Isin: string | null): SymbolRow => ({
  Code,
  Name,
  Country: "USA",
  Exchange,
  Currency: "USD",
  Type,
  Isin
})

const pair = (Code: string, Name: string, Exchange: "CC" | "FOREX", Currency: string): SymbolRow => ({
  Code,
  Name,
  Country: "Unknown",
  Exchange,
  Currency,
  Type: "Currency",
  Isin: null
})

export const SYMBOL_LISTS: Readonly<Record<string, ReadonlyArray<SymbolRow>>> = {
  US: [
    us("AAPL", "Apple Inc", "NASDAQ", "Common Stock", "US0378331005"),
    us("AMZN", "Amazon.com Inc", "NASDAQ", "Common Stock", "US0231351067"),
    us("MSFT", "Microsoft Corporation", "NASDAQ", "Common Stock", "US5949181045"),
    us("TSLA", "Tesla Inc", "NASDAQ", "Common Stock", "US88160R1014"),
    us("NVDA", "NVIDIA Corporation", "NASDAQ", "Common Stock", "US67066G1040"),
    us("BRK-B", "Berkshire Hathaway Inc", "NYSE", "Common Stock", "US0846707026"),
    us("BAC-PL", "Bank of America Corporation", "NYSE", "Preferred Stock", null),
    us("VTI", "Vanguard Total Stock Market Index Fund ETF Shares", "NYSE ARCA", "ETF", "US9229087690"),
    us("SPY", "SPDR S&P 500 ETF Trust", "NYSE ARCA", "ETF", "US78462F1030"),
    us("SWPPX", "Schwab S&P 500 Index Fund", "NMFQS", "FUND", null)
  ],
  CC: [
    pair("BTC-USD", "Bitcoin USD", "CC", "USD"),
    pair("ETH-USD", "Ethereum USD", "CC", "USD"),
    pair("SOL-USD", "Solana USD", "CC", "USD"),
    pair("ETH-BTC", "Ethereum BTC", "CC", "BTC")
  ],
  FOREX: [
    pair("EURUSD", "EUR/USD", "FOREX", "USD"),
    pair("GBPUSD", "GBP/USD", "FOREX", "USD"),
    pair("USDJPY", "USD/JPY", "FOREX", "JPY")
  ]
}

export const EXCHANGES: ReadonlyArray<ExchangeRow> = [
  {
    Name: "USA Stocks",
    Code: "US",
    OperatingMIC: "XNAS, XNYS, OTCM",
    Country: "USA",
    Currency: "USD",
    CountryISO2: "US",
    CountryISO3: "USA"
  },
  {
    Name: "Cryptocurrencies",
    Code: "CC",
    OperatingMIC: null,
    Country: "Unknown",
    Currency: "Unknown",
    CountryISO2: "",
    CountryISO3: ""
  },
  {
    Name: "FOREX",
    Code: "FOREX",
    OperatingMIC: null,
    Country: "Unknown",
    Currency: "Unknown",
    CountryISO2: "",
    CountryISO3: ""
  }
]

/**
 * Symbols the `demo` token may read: the union of the lists on eodhd.com and in
 * github.com/EodHistoricalData/eodhd-claude-skills, minus SWPPX which only the latter names.
 */
export const DEMO_SYMBOLS: ReadonlySet<string> = new Set([
  "AAPL.US",
  "TSLA.US",
  "VTI.US",
  "AMZN.US",
  "MSFT.US",
  "BTC-USD.CC",
  "EURUSD.FOREX"
])

const KNOWN: ReadonlySet<string> = new Set(
  Object.entries(SYMBOL_LISTS).flatMap(([exchange, rows]) => rows.map((r) => `${r.Code}.${exchange}`))
)

/** Whether the fake has data for `CODE.EXCHANGE` (case as EODHD takes it: upper). */
export const isKnownSymbol = (symbol: string): boolean => KNOWN.has(symbol)

export type Venue = "US" | "CC" | "FOREX"

export const venueOf = (symbol: string): Venue | undefined => {
  const suffix = symbol.slice(symbol.lastIndexOf(".") + 1)
  return suffix === "US" || suffix === "CC" || suffix === "FOREX" ? suffix : undefined
}
