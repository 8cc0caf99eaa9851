import { describe, expect, it } from "vitest"
import { parseEodBars, parseErrorBody, parseIntradayBars, parseSymbolList } from "../../src/eodhd/parse"
import { fixture } from "./harness"

describe("parseEodBars", () => {
  it("reads the documented /eod payload: date at 00:00 UTC, adjusted_close kept", () => {
    const parsed = parseEodBars(fixture("eod-AAPL.US.json"))
    expect(parsed).toEqual({
      ok: true,
      skipped: [],
      rows: [
        {
          ts: Date.UTC(2022, 0, 3),
          date: "2022-01-03",
          open: 177.83,
          high: 182.88,
          low: 177.71,
          close: 182.01,
          adjustedClose: 179.2736,
          volume: 104487900
        },
        {
          ts: Date.UTC(2022, 0, 4),
          date: "2022-01-04",
          open: 182.63,
          high: 182.94,
          low: 179.12,
          close: 179.7,
          adjustedClose: 176.9984,
          volume: 99310400
        }
      ]
    })
  })

  it("skips bad rows with a reason and keeps the good ones (numeric strings accepted)", () => {
    const parsed = parseEodBars(fixture("eod-bad-rows.json"))
    if (!parsed.ok) throw new Error(parsed.reason)
    expect(parsed.rows.map((r) => r.date)).toEqual(["2022-01-03", "2022-01-05"])
    expect(parsed.rows[1]?.open).toBe(179.61)
    expect(parsed.rows[1]?.volume).toBe(0)
    expect(parsed.skipped.map((s) => s.index)).toEqual([1, 2])
    expect(parsed.skipped[0]?.reason).toMatch(/open/)
    expect(parsed.skipped[1]?.reason).toMatch(/date/)
  })

  it("never throws: non-JSON, non-array and all-bad bodies are malformed as a whole", () => {
    for (const body of [
      "",
      "Date,Open\n2022-01-03,1",
      '[{"date":"2022-01-03","open":1',
      '{"a":1}',
      '[1,"x"]'
    ]) {
      const parsed = parseEodBars(body)
      expect(parsed.ok).toBe(false)
    }
    expect(parseEodBars("[]")).toEqual({ ok: true, rows: [], skipped: [] })
  })

  it("rejects impossible dates", () => {
    const parsed = parseEodBars('[{"date":"2022-02-30","open":1,"high":1,"low":1,"close":1,"volume":1}]')
    expect(parsed.ok).toBe(false)
  })
})

describe("parseIntradayBars", () => {
  it("reads unix-second open times and null volume as 0", () => {
    expect(parseIntradayBars(fixture("intraday-AAPL.US-5m.json"))).toEqual({
      ok: true,
      skipped: [],
      rows: [
        {
          ts: 1628876100_000,
          open: 148.929992,
          high: 149.059997,
          low: 148.929992,
          close: 149.035003,
          volume: 416405
        },
        { ts: 1628876400_000, open: 149.035003, high: 149.080002, low: 148.990005, close: 149.0, volume: 0 }
      ]
    })
  })

  it("skips rows without a whole-second timestamp or with a negative volume", () => {
    const body = JSON.stringify([
      { timestamp: 1628876100.5, open: 1, high: 1, low: 1, close: 1, volume: 1 },
      { timestamp: 1628876400, open: 1, high: 1, low: 1, close: 1, volume: -3 },
      { timestamp: 1628876700, open: 1, high: 2, low: 1, close: 2, volume: 5 }
    ])
    const parsed = parseIntradayBars(body)
    if (!parsed.ok) throw new Error(parsed.reason)
    expect(parsed.rows).toEqual([{ ts: 1628876700_000, open: 1, high: 2, low: 1, close: 2, volume: 5 }])
    expect(parsed.skipped).toHaveLength(2)
  })
})

describe("parseSymbolList", () => {
  it("maps US rows: CODE.US symbol, venue, class from Type, nullable Isin", () => {
    const parsed = parseSymbolList(fixture("exchange-symbol-list-US.json"), "US")
    if (!parsed.ok) throw new Error(parsed.reason)
    const [aapl, vti, swppx, pref, warrant] = parsed.rows
    expect(aapl).toEqual({
      symbol: "AAPL.US",
      name: "Apple Inc",
      assetClass: "equity",
      base: undefined,
      quote: undefined,
      exchange: "NASDAQ",
      currency: "USD",
      isin: "US0378331005",
      status: "active",
      extra: { country: "USA", type: "Common Stock" }
    })
    expect(vti?.assetClass).toBe("etf")
    expect(swppx).toMatchObject({ symbol: "SWPPX.US", assetClass: "fund", isin: undefined })
    expect(pref).toMatchObject({ symbol: "BAC-PL.US", assetClass: "equity", isin: undefined })
    expect(warrant).toMatchObject({ assetClass: "other", isin: undefined })
  })

  it("maps crypto and FX pairs to base/quote", () => {
    const cc = parseSymbolList(fixture("exchange-symbol-list-CC.json"), "cc")
    const fx = parseSymbolList(fixture("exchange-symbol-list-FOREX.json"), "FOREX")
    if (!cc.ok || !fx.ok) throw new Error("unparsed")
    expect(cc.rows.map((a) => [a.symbol, a.assetClass, a.base, a.quote])).toEqual([
      ["BTC-USD.CC", "crypto", "BTC", "USD"],
      ["ETH-BTC.CC", "crypto", "ETH", "BTC"]
    ])
    expect(fx.rows[0]).toMatchObject({ symbol: "EURUSD.FOREX", assetClass: "fx", base: "EUR", quote: "USD" })
  })

  it("skips rows without a Code", () => {
    const parsed = parseSymbolList('[{"Name":"x"},{"Code":"A","Type":"Common Stock"}]', "US")
    expect(parsed.ok && parsed.rows.map((r) => r.symbol)).toEqual(["A.US"])
  })
})

describe("parseErrorBody", () => {
  it("recognises plain-text Unauthenticated and Laravel's JSON variant", () => {
    expect(parseErrorBody(fixture("unauthenticated.txt"))).toEqual({ kind: "unauthenticated" })
    expect(parseErrorBody("Unauthenticated\n")).toEqual({ kind: "unauthenticated" })
    expect(parseErrorBody('{"message":"Unauthenticated."}')).toEqual({ kind: "unauthenticated" })
  })

  it("names the fields of an over-range error body", () => {
    expect(parseErrorBody(fixture("intraday-over-range.json"))).toEqual({
      kind: "errors",
      message: "to: Max period length is 120 days; from: Max period length is 120 days"
    })
  })

  it("shortens any other text, HTML included", () => {
    const body = `<html><body>${"x".repeat(500)}</body></html>`
    const parsed = parseErrorBody(body)
    expect(parsed.kind).toBe("text")
    expect(parsed.kind === "text" && parsed.message.length).toBeLessThanOrEqual(201)
    expect(parseErrorBody('{"error":"Ticker Not Found."}')).toEqual({
      kind: "text",
      message: "Ticker Not Found."
    })
  })
})
