import { HttpClient, HttpClientRequest } from "@effect/platform"
import { describe, expect, it, layer } from "@effect/vitest"
import type { MappingInput, ProviderAsset, ProviderName } from "@quasar/domain"
import { SchemaState } from "@quasar/server"
import { TestService } from "@quasar/server/testing"
import { Effect, Either } from "effect"
import { suggest } from "../src/MappingSuggestions"
import * as MappingsCsv from "../src/MappingsCsv"
import * as MappingsImport from "../src/MappingsImport"
import { FakeDataHub, registryClient, registryLayer, seedCode } from "./fakeDataHub"

const name = (s: string) => s as ProviderName
const m = (commonSymbol: string, source: string, symbol: string): MappingInput => ({
  commonSymbol,
  source: name(source),
  symbol
})
const ready = Effect.flatMap(SchemaState.SchemaState, (s) => s.ready)

const listings: Record<string, Array<ProviderAsset>> = {
  kraken: [
    { symbol: "XBT/USD", assetClass: "crypto", base: "BTC", quote: "USD", exchange: "Kraken" },
    { symbol: "ETH/EUR", assetClass: "crypto", base: "ETH", quote: "EUR", exchange: "Kraken" },
    { symbol: "SOL/USD", assetClass: "crypto", base: "SOL", quote: "USD", exchange: "Kraken" }
  ],
  eodhd: [
    { symbol: "BTC-USD.CC", assetClass: "crypto", base: "BTC", quote: "USD", exchange: "CC" },
    { symbol: "ETH-EUR.CC", assetClass: "crypto", exchange: "CC" },
    { symbol: "AAPL.US", assetClass: "equity", exchange: "NASDAQ", isin: "US0378331005" },
    { symbol: "MSFT.US", assetClass: "equity", exchange: "NASDAQ" },
    { symbol: "SOL-USD.CC", assetClass: "crypto", base: "SOL", quote: "USD", exchange: "CC" }
  ],
  iex: [
    { symbol: "AAPL", assetClass: "equity", exchange: "XNAS", isin: "US0378331005" },
    { symbol: "MSFT", assetClass: "equity", exchange: "nasdaq" }
  ]
}

layer(registryLayer, { timeout: 120_000 })("mappings", (it) => {
  it.effect("PUT creates and changes mappings and enforces both uniqueness rules", () =>
    Effect.gen(function* () {
      yield* ready
      const client = yield* registryClient()
      const fake = yield* FakeDataHub
      for (const source of Object.keys(listings)) {
        yield* seedCode(source)
        yield* fake.setListing(source, listings[source] ?? [])
        yield* client.assets.refresh({ path: { provider: name(source) } })
      }
      yield* seedCode("ibkr", { kind: "broker" })

      const created = yield* client.mappings.upsert({ payload: m("BTC/USD", "kraken", "XBT/USD") })
      expect(created).toMatchObject({ commonSymbol: "BTC/USD", source: "kraken", sourceKind: "provider" })
      expect(yield* client.mappings.upsert({ payload: m("BTC/USD", "kraken", "XBT/USD") })).toEqual(created)
      const broker = yield* client.mappings.upsert({ payload: m("BTC/USD", "ibkr", "BTC.USD") })
      expect(broker.sourceKind).toBe("broker")

      // A common symbol has at most one symbol per source: the 409 names the existing mapping.
      const taken = yield* Effect.flip(
        client.mappings.upsert({ payload: m("BTC/USD", "kraken", "XXBTZUSD") })
      )
      expect(taken).toMatchObject({
        _tag: "Conflict",
        message: expect.stringContaining("kraken symbol XBT/USD")
      })
      // What to do, in words the UI can show as they are: no HTTP routes.
      expect(taken.message).toContain(
        "remove the mapping of kraken XBT/USD first, or choose another common symbol"
      )
      expect(taken.message).not.toMatch(/\b(GET|POST|PUT|DELETE) \//)

      // A source symbol maps to one common symbol: PUT moves it.
      yield* client.mappings.upsert({ payload: m("XBTUSD", "kraken", "XBT/USD") })
      const kraken = yield* client.mappings.list({ urlParams: { source: name("kraken") } })
      expect(kraken.map((x) => [x.commonSymbol, x.symbol])).toEqual([["XBTUSD", "XBT/USD"]])
      yield* client.mappings.upsert({ payload: m("BTC/USD", "kraken", "XBT/USD") })
      const btc = yield* client.mappings.list({ urlParams: { commonSymbol: "BTC/USD" } })
      expect(btc.map((x) => `${x.source}:${x.symbol}`)).toEqual(["ibkr:BTC.USD", "kraken:XBT/USD"])

      const unknown = yield* Effect.flip(
        client.mappings.upsert({ payload: m("BTC/USD", "nosuch", "BTCUSD") })
      )
      expect(unknown).toMatchObject({ _tag: "NotFound", message: expect.stringContaining("nosuch") })
    })
  )

  it.effect(
    "DELETE takes a symbol with a slash as it is (one percent-encoded path segment), and 404s when absent",
    () =>
      Effect.gen(function* () {
        yield* ready
        const client = yield* registryClient()
        yield* client.mappings.upsert({ payload: m("ETH/EUR", "kraken", "ETH/EUR") })
        yield* client.mappings.upsert({ payload: m("100%/USD", "kraken", "100%/USD") })
        yield* client.mappings.remove({ path: { source: name("kraken"), symbol: "ETH/EUR" } })
        expect(yield* client.mappings.list({ urlParams: { commonSymbol: "ETH/EUR" } })).toEqual([])
        // "%" in a symbol survives too: the segment is decoded once, by the router.
        yield* client.mappings.remove({ path: { source: name("kraken"), symbol: "100%/USD" } })
        expect(yield* client.mappings.list({ urlParams: { commonSymbol: "100%/USD" } })).toEqual([])
        const again = yield* Effect.flip(
          client.mappings.remove({ path: { source: name("kraken"), symbol: "ETH/EUR" } })
        )
        expect(again).toMatchObject({
          _tag: "NotFound",
          message: expect.stringContaining("no mapping for kraken")
        })
      })
  )

  it.effect("every write needs the admin token: 401 without, 403 with a wrong one", () =>
    Effect.gen(function* () {
      const http = yield* HttpClient.HttpClient
      const writes = [
        HttpClientRequest.put("/mappings").pipe(HttpClientRequest.bodyUnsafeJson(m("X", "kraken", "X"))),
        HttpClientRequest.del(`/mappings/kraken/${encodeURIComponent("XBT/USD")}`),
        HttpClientRequest.post("/mappings/bulk").pipe(HttpClientRequest.bodyUnsafeJson({ mappings: [] })),
        HttpClientRequest.post("/mappings/import").pipe(
          HttpClientRequest.bodyText("common_symbol,source,symbol\r\n", "text/csv")
        ),
        HttpClientRequest.post("/assets/refresh/kraken")
      ]
      for (const request of writes) {
        const none = yield* http.execute(request)
        const wrong = yield* http.execute(HttpClientRequest.bearerToken(request, "wrong"))
        expect([request.url, none.status, wrong.status]).toEqual([request.url, 401, 403])
      }
      const right = yield* http.execute(HttpClientRequest.bearerToken(writes[2]!, TestService.ADMIN_TOKEN))
      expect(right.status).toBe(200)
    })
  )

  it.effect("bulk reports each row as created, unchanged or conflict, and applies only the good ones", () =>
    Effect.gen(function* () {
      yield* ready
      const client = yield* registryClient()
      const result = yield* client.mappings.bulk({
        payload: {
          mappings: [
            m("BTC/USD", "kraken", "XBT/USD"), // unchanged
            m("SOL/USD", "kraken", "SOL/USD"), // created
            m("SOL/USD", "kraken", "SOLUSD"), // conflicts with the row before
            m("BITCOIN", "kraken", "XBT/USD"), // would change an existing mapping
            m("SOL/USD", "nosuch", "SOL"), // unknown source
            m("SOL/USD", "kraken", "SOL/USD") // now unchanged
          ]
        }
      })
      expect(result.created).toBe(1)
      expect(result.unchanged).toBe(2)
      expect(result.conflicts.map((c) => [c.mapping.symbol, c.message.split(":")[0]])).toEqual([
        [
          "SOLUSD",
          "SOL/USD already maps to kraken symbol SOL/USD (a common symbol has at most one symbol per source)"
        ],
        ["XBT/USD", "kraken symbol XBT/USD already maps to BTC/USD"],
        ["SOL", "unknown source nosuch"]
      ])
      const sol = yield* client.mappings.list({ urlParams: { commonSymbol: "SOL/USD" } })
      expect(sol.map((x) => x.symbol)).toEqual(["SOL/USD"])
    })
  )

  it.effect(
    "CSV export quotes per RFC 4180 and import reads it back; bad files get a 400 listing every bad row",
    () =>
      Effect.gen(function* () {
        yield* ready
        const client = yield* registryClient()
        yield* client.mappings.upsert({ payload: m('ODD,"ONE"', "iex", "A,B") })
        const csv = yield* client.mappings.exportCsv()
        expect(csv.startsWith("common_symbol,source,symbol\r\n")).toBe(true)
        expect(csv).toContain('"ODD,""ONE""",iex,"A,B"\r\n')
        expect(yield* client.mappings.importCsv({ payload: csv })).toMatchObject({
          created: 0,
          conflicts: []
        })

        const imported = yield* client.mappings.importCsv({
          payload: 'common_symbol,source,symbol\nETH/EUR,kraken,ETH/EUR\n"ETH/EUR",eodhd,"ETH-EUR.CC"\n'
        })
        expect(imported).toEqual({ created: 2, unchanged: 0, conflicts: [] })

        const bad = (payload: string) => Effect.flip(client.mappings.importCsv({ payload }))
        expect(yield* bad("symbol,source,common_symbol\nA,kraken,B\n")).toMatchObject({
          _tag: "InvalidRows",
          rows: [
            { line: 1, message: expect.stringMatching(/^the header must be common_symbol,source,symbol/) }
          ]
        })
        expect(yield* bad('common_symbol,source,symbol\r\nA,kraken,B\r\n"A\nB,kraken,C\r\n')).toMatchObject({
          rows: [{ line: 3, message: "a quoted field is never closed" }]
        })
        expect(yield* bad("")).toMatchObject({
          rows: [{ line: 1, message: expect.stringContaining("empty") }]
        })
        // Every bad row, each on one line of its own, naming the column.
        const rows = yield* bad(
          "common_symbol,source,symbol\nA,kraken,B\nA,kraken\nA,Kraken,B\nOK,kraken,C\n,x y,D\n"
        )
        expect(rows).toMatchObject({
          _tag: "InvalidRows",
          total: 3,
          rows: [
            { line: 3, message: "expected 3 fields (common_symbol,source,symbol), found 2" },
            {
              line: 4,
              message: expect.stringMatching(/^source: Expected lower-case letters.*actual "Kraken"$/)
            },
            { line: 6, message: expect.stringMatching(/^common_symbol: .*; source: .*actual "x y"$/) }
          ]
        })
        expect(rows.message.split("\n")).toEqual([
          "3 rows are not a valid mapping; nothing was imported:",
          ...(rows._tag === "InvalidRows" ? rows.rows.map((r) => `line ${r.line}: ${r.message}`) : [])
        ])
        for (const r of rows._tag === "InvalidRows" ? rows.rows : []) expect(r.message).not.toContain("\n")
        // Nothing of a rejected file is applied.
        expect(yield* client.mappings.list({ urlParams: { commonSymbol: "A" } })).toEqual([])
      })
  )

  it.effect("bulk and CSV import take 50,000 rows in one request", () =>
    Effect.gen(function* () {
      yield* ready
      const client = yield* registryClient()
      const rows = Array.from({ length: 50_000 }, (_, i) => m(`C${i}`, "ibkr", `S${i}`))
      const t0 = performance.now()
      const first = yield* client.mappings.bulk({ payload: { mappings: rows } })
      const t1 = performance.now()
      expect([first.created, first.unchanged, first.conflicts.length]).toEqual([50_000, 0, 0])
      const again = yield* client.mappings.importCsv({ payload: MappingsCsv.format(rows) })
      const t2 = performance.now()
      expect([again.created, again.unchanged]).toEqual([0, 50_000])
      console.log(`50k mappings: bulk ${Math.round(t1 - t0)} ms, CSV import ${Math.round(t2 - t1)} ms`)
    })
  )

  it.effect("suggests common symbols for unmapped assets that several providers list", () =>
    Effect.gen(function* () {
      yield* ready
      const client = yield* registryClient()
      const suggestions = yield* client.mappings.suggestions()
      expect(suggestions.map((s) => `${s.commonSymbol} ${s.source}:${s.symbol}`)).toEqual([
        "AAPL eodhd:AAPL.US", // same ISIN
        "AAPL iex:AAPL",
        "BTC/USD eodhd:BTC-USD.CC", // kraken XBT/USD is mapped to BTC/USD already
        "MSFT eodhd:MSFT.US", // same ticker, same exchange
        "MSFT iex:MSFT",
        "SOL/USD eodhd:SOL-USD.CC" // follows kraken's existing SOL/USD mapping
      ])
      expect(suggestions[0]?.reason).toContain("US0378331005")
      for (const s of suggestions) yield* client.mappings.upsert({ payload: s })
      expect(yield* client.mappings.suggestions()).toEqual([])
    })
  )
})

describe("suggestions", () => {
  const asset = (provider: string, symbol: string, base: string, quote: string) => ({
    provider,
    symbol,
    assetClass: "crypto",
    base,
    quote,
    exchange: null,
    isin: null
  })

  it("skips what would break a uniqueness rule or is ambiguous", () => {
    const assets = [
      asset("kraken", "XBT/USD", "XBT", "USD"),
      asset("kraken", "XXBTZUSD", "BTC", "USD"), // kraken lists the pair twice: ambiguous
      asset("eodhd", "BTC-USD.CC", "BTC", "USD"),
      asset("bitstamp", "btcusd", "btc", "usd")
    ]
    expect(suggest(assets, []).map((s) => s.source)).toEqual(["bitstamp", "eodhd"])
    // bitstamp's BTC/USD is taken by another of its symbols: no suggestion for bitstamp.
    const taken = [{ commonSymbol: "BTC/USD", source: "bitstamp", symbol: "BTCUSD-PERP" }]
    expect(suggest(assets, taken).map((s) => s.source)).toEqual(["eodhd"])
  })
})

describe("MappingsCsv", () => {
  it("reads quoted fields with commas, doubled quotes and line breaks, after a BOM, with CRLF or LF", () => {
    const text = '\uFEFFcommon_symbol,source,symbol\r\n"A,1",kraken,"say ""hi"""\n"multi\nline",x,y\r\n\r\n'
    expect(Either.map(MappingsCsv.records(text), (rs) => rs.map((r) => [r.line, ...r.fields]))).toEqual(
      Either.right([
        [1, "common_symbol", "source", "symbol"],
        [2, "A,1", "kraken", 'say "hi"'],
        [3, "multi\nline", "x", "y"]
      ])
    )
    const formatted = MappingsCsv.format([{ commonSymbol: 'a"b', source: "s", symbol: "c,d" }])
    expect(formatted).toBe('common_symbol,source,symbol\r\n"a""b",s,"c,d"\r\n')
    expect(MappingsImport.read(formatted)).toEqual(
      Either.right([{ commonSymbol: 'a"b', source: "s", symbol: "c,d" }])
    )
  })

  it("rejects a stray quote, naming the line", () => {
    const result = MappingsImport.read('common_symbol,source,symbol\na,b,c\na"b,s,c\n')
    expect(Either.isLeft(result) && result.left.message).toMatch(
      /^line 3: a field containing " must be quoted/m
    )
  })
})
