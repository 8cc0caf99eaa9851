import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { type KrakenPair, parseAssetPairs, parseEnvelope, parseJson } from "../../src/kraken/parse"
import { assetOfPair, canonicalAsset, KrakenSymbols, wsV2Symbol } from "../../src/kraken/symbols"

const recordedPairs = (): Array<KrakenPair> => {
  const raw = readFileSync(new URL("../fixtures/kraken/rest_asset_pairs.json", import.meta.url), "utf8")
  const json = parseJson(raw)
  const envelope = json.ok ? parseEnvelope(json.value) : json
  const rows = envelope.ok ? parseAssetPairs(envelope.value.result) : envelope
  if (!rows.ok) throw new Error(rows.error)
  return rows.value.flatMap((r) => (r.ok ? [r.value] : []))
}

describe("Kraken symbols", () => {
  it("maps legacy asset codes by table, never by stripping prefixes", () => {
    expect(
      ["XXBT", "XBT", "XDG", "XXDG", "XETH", "ZUSD", "ZEUR", "XTZ", "ZEC", "SOL"].map(canonicalAsset)
    ).toEqual(["BTC", "BTC", "DOGE", "DOGE", "ETH", "USD", "EUR", "XTZ", "ZEC", "SOL"])
  })

  it("turns a REST wsname into the WS v2 symbol on both sides, idempotently", () => {
    expect(wsV2Symbol("XBT/USD")).toBe("BTC/USD")
    expect(wsV2Symbol("XDG/USD")).toBe("DOGE/USD")
    expect(wsV2Symbol("ETH/XBT")).toBe("ETH/BTC")
    expect(wsV2Symbol("BTC/USD")).toBe("BTC/USD")
    expect(wsV2Symbol("XBTUSD")).toBe("XBTUSD")
  })

  it("normalises AssetPairs rows into assets", () => {
    const assets = recordedPairs().map(assetOfPair)
    expect(assets[0]).toEqual({
      symbol: "XBT/USD",
      name: "BTC/USD",
      assetClass: "crypto",
      base: "BTC",
      quote: "USD",
      exchange: "Kraken",
      currency: "USD",
      status: "active",
      extra: { restPair: "XXBTZUSD", altname: "XBTUSD", wsV2: "BTC/USD", krakenStatus: "online" }
    })
    const bySymbol = new Map(assets.flatMap((a) => (a ? [[a.symbol, a]] : [])))
    expect(assets[1]).toBeUndefined() // XXBTZUSD.d: dark pool
    expect(bySymbol.get("XDG/USD")).toMatchObject({ base: "DOGE", quote: "USD", extra: { wsV2: "DOGE/USD" } })
    expect(bySymbol.get("ETH/XBT")).toMatchObject({
      base: "ETH",
      quote: "BTC",
      status: "active",
      extra: { wsV2: "ETH/BTC" }
    })
    expect(bySymbol.get("SOL/USD")).toMatchObject({ status: "active", extra: { krakenStatus: null } })
    expect(bySymbol.get("XTZ/USD")).toMatchObject({ base: "XTZ" })
    // A slashless key without wsname still gets a usable symbol (the v2 spelling).
    expect(bySymbol.get("RENDER/USD")).toMatchObject({
      base: "RENDER",
      quote: "USD",
      extra: { restPair: "RENDERUSD", altname: "RENDERUSD", wsV2: "RENDER/USD" }
    })
  })

  it("resolves any name of a pair, and not dark pools", () => {
    const symbols = new KrakenSymbols(recordedPairs())
    for (const name of ["XBT/USD", "BTC/USD", "XBTUSD", "XXBTZUSD"])
      expect(symbols.resolve(name)?.altname).toBe("XBTUSD")
    expect(symbols.resolve("DOGE/USD")?.altname).toBe("XDGUSD")
    expect(symbols.resolve("RENDER/USD")?.altname).toBe("RENDERUSD")
    expect(symbols.resolve("XBTUSD.d")).toBeUndefined()
    expect(symbols.resolve("FOO/BAR")).toBeUndefined()
  })
})
