import { describe, expect, it } from "@effect/vitest"
import { Either, ParseResult, Schema } from "effect"
import { CodeManifest } from "../src/CodeVersion"
import { StrategyManifest } from "../src/StrategyManifest"

const decode = Schema.decodeUnknownEither(StrategyManifest)
const problems = (input: unknown): ReadonlyArray<string> =>
  Either.match(decode(input, { errors: "all" }), {
    onLeft: (e) =>
      ParseResult.ArrayFormatter.formatErrorSync(e).map((i) => `${i.path.join(".")}: ${i.message}`),
    onRight: () => []
  })

const manifest = {
  kind: "strategy",
  name: "pairs",
  version: "2.0.0",
  description: "Trades two coins",
  params: [
    { key: "fast", type: "integer", default: 10, min: 2, max: 200, label: "Fast SMA" },
    { key: "useStops", type: "boolean", default: false },
    { key: "note", type: "string", default: "", maxLength: 20 },
    { key: "mode", type: "enum", values: ["long", "flat"], default: "long" }
  ],
  universe: { timeframe: "1h", symbols: ["BTC/USD", { provider: "kraken", symbol: "XETH/ZUSD" }] },
  warmup: 30,
  window: 500
}

describe("StrategyManifest", () => {
  it("decodes what defineStrategy declares, params in the order written", () => {
    const decoded = Either.getOrThrow(decode(manifest))
    expect(decoded).toEqual(manifest)
    expect(decoded.params.map((p) => p.key)).toEqual(["fast", "useStops", "note", "mode"])
  })

  it("is the strategy member of CodeManifest, told apart from a provider's manifest by kind", () => {
    const provider = {
      name: "acme",
      displayName: "Acme",
      version: "1.0.0",
      kind: "provider",
      capabilities: ["assets"],
      timeframes: ["1m"],
      settings: []
    }
    const decodeCode = Schema.decodeUnknownSync(CodeManifest)
    expect(decodeCode(manifest)).toMatchObject({ kind: "strategy", warmup: 30 })
    expect(decodeCode(provider)).toMatchObject({ kind: "provider", settings: [] })
    expect(() => decodeCode({ ...provider, kind: "strategy" })).toThrow()
  })

  it("refuses bounds that cross, repeated keys or members, and a window shorter than the warm-up", () => {
    expect(
      problems({ ...manifest, params: [{ key: "x", type: "number", default: 5, min: 9, max: 1 }] })
    ).toEqual(["params.0: min 9 is above max 1"])
    expect(problems({ ...manifest, params: [manifest.params[0], manifest.params[0]] })).toEqual([
      "params: param fast is declared twice"
    ])
    expect(
      problems({
        ...manifest,
        universe: {
          timeframe: "1h",
          symbols: [
            { provider: "kraken", symbol: "XBT/USD" },
            { provider: "kraken", symbol: "XBT/USD" }
          ]
        }
      })
    ).toEqual(["universe.symbols: the universe names kraken:XBT/USD twice"])
    expect(problems({ ...manifest, warmup: 600 })).toEqual([
      "window: window 500 must be at least 1 and at least warmup (600)"
    ])
    expect(problems({ ...manifest, window: 0, warmup: 0 })).toEqual([
      "window: window 0 must be at least 1 and at least warmup (0)"
    ])
  })

  it("refuses an empty universe, an unknown timeframe, fractional or negative bar counts and odd keys", () => {
    const paths = (input: unknown) => [...new Set(problems(input).map((p) => p.slice(0, p.indexOf(":"))))]
    expect(paths({ ...manifest, universe: { timeframe: "1h", symbols: [] } })).toEqual(["universe.symbols"])
    expect(paths({ ...manifest, universe: { timeframe: "2h", symbols: ["BTC/USD"] } })).toEqual([
      "universe.timeframe"
    ])
    expect(paths({ ...manifest, warmup: 2.5 })).toEqual(["warmup"])
    expect(paths({ ...manifest, warmup: -1 })).toEqual(["warmup"])
    expect(paths({ ...manifest, params: [{ key: "two words", type: "boolean", default: true }] })).toEqual([
      "params.0.key"
    ])
    expect(paths({ ...manifest, params: [{ key: "e", type: "enum", values: [], default: "a" }] })).toEqual([
      "params.0.values"
    ])
  })
})
