import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { toManifest } from "../../src/sandbox/manifest"

/** What the sandbox child describes for a `defineStrategy` export (its data fields as they are). */
const described = {
  kind: "strategy",
  name: "sma-cross",
  version: "1.0.0",
  description: undefined,
  params: {
    slow: { type: "integer", default: 30, min: 3, max: 500 },
    fast: { type: "integer", default: 10, min: 2, max: 200, label: "Fast SMA" },
    side: { type: "enum", values: ["long", "flat"], default: "long" }
  },
  universe: { timeframe: "1h", symbols: ["BTC/USD", { provider: "kraken", symbol: "XBT/USD" }] },
  warmup: 30,
  window: undefined
}

const messages = (input: unknown) =>
  Either.match(toManifest(input, []), {
    onLeft: (issues) => issues.map((i) => i.message),
    onRight: () => []
  })

describe("a strategy's manifest", () => {
  it("becomes the domain's StrategyManifest: params as a list in the author's order, keys kept", () => {
    expect(toManifest(described, [])).toEqual(
      Either.right({
        kind: "strategy",
        name: "sma-cross",
        version: "1.0.0",
        params: [
          { key: "slow", type: "integer", default: 30, min: 3, max: 500 },
          { key: "fast", type: "integer", default: 10, min: 2, max: 200, label: "Fast SMA" },
          { key: "side", type: "enum", values: ["long", "flat"], default: "long" }
        ],
        universe: { timeframe: "1h", symbols: ["BTC/USD", { provider: "kraken", symbol: "XBT/USD" }] },
        warmup: 30
      })
    )
  })

  it("names a param by its key, not its position, when its spec is wrong", () => {
    expect(
      messages({
        ...described,
        params: { ...described.params, fast: { type: "integer", default: 10, min: 20, max: 5 } }
      })
    ).toEqual(["manifest field params.fast: min 20 is above max 5"])
    expect(messages({ ...described, params: { fast: { type: "float", default: 1 } } })).toEqual([
      expect.stringMatching(
        /^manifest field params\.fast\.type: Expected "number" \| "integer" .*actual "float"$/
      )
    ])
  })

  it("checks defaults the way a run checks params (the SDK's resolveParams)", () => {
    expect(
      messages({
        ...described,
        params: {
          fast: { type: "integer", default: 2.5 },
          label: { type: "string", default: "too long", maxLength: 3 }
        }
      })
    ).toEqual([
      "params: the default of fast must be a whole number",
      "params: the default of label must be at most 3 characters"
    ])
  })

  it("says which field is missing or out of range", () => {
    const { universe: _, ...withoutUniverse } = described
    expect(messages(withoutUniverse)).toEqual(["manifest field universe: is missing"])
    expect(messages({ ...described, warmup: 50, window: 40 })).toEqual([
      "manifest field window: window 40 must be at least 1 and at least warmup (50)"
    ])
    expect(messages({ ...described, params: [] })).toEqual([
      expect.stringMatching(/^manifest field params: Expected \{ readonly \[x: string\]: object \}/)
    ])
  })
})
