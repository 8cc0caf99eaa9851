import { describe, expect, it } from "vitest"
import { defineStrategy, resolveParams, universeKey } from "../../src/sdk"

const spec = {
  fast: { type: "integer", default: 10, min: 2, max: 200 },
  fraction: { type: "number", default: 0.5, min: 0, max: 1 },
  shortable: { type: "boolean", default: false },
  note: { type: "string", default: "", maxLength: 5 },
  mode: { type: "enum", values: ["trend", "revert"], default: "trend" }
} as const

describe("strategy parameters", () => {
  it("fills in defaults and keeps given values", () => {
    expect(resolveParams(spec, {})).toEqual({
      ok: true,
      values: { fast: 10, fraction: 0.5, shortable: false, note: "", mode: "trend" }
    })
    expect(resolveParams(spec, { fast: 20, mode: "revert", shortable: true })).toMatchObject({
      ok: true,
      values: { fast: 20, mode: "revert", shortable: true, fraction: 0.5 }
    })
  })

  it.each([
    [{ fast: 2.5 }, "fast must be a whole number"],
    [{ fast: 1 }, "fast must be at least 2 (got 1)"],
    [{ fast: 201 }, "fast must be at most 200 (got 201)"],
    [{ fast: Number.NaN }, "fast must be a finite number"],
    [{ fast: "10" }, "fast must be a finite number"],
    [{ fraction: Number.POSITIVE_INFINITY }, "fraction must be a finite number"],
    [{ shortable: "yes" }, "shortable must be true or false"],
    [{ note: "too long" }, "note must be at most 5 characters"],
    [{ note: 5 }, "note must be a string"],
    [{ mode: "random" }, 'mode must be one of "trend", "revert"'],
    [{ fsat: 3 }, 'unknown parameter "fsat"; known: fast, fraction, shortable, note, mode']
  ])("refuses %j: %s", (given, problem) => {
    expect(resolveParams(spec, given)).toEqual({ ok: false, problems: [problem] })
  })

  it("names a default that breaks its own rules", () => {
    expect(resolveParams({ n: { type: "integer", default: 0, min: 1 } }, {})).toEqual({
      ok: false,
      problems: ["the default of n must be at least 1 (got 0)"]
    })
  })

  it("types ctx.params from the spec and keys the universe", () => {
    const strategy = defineStrategy({
      name: "typed",
      version: "1",
      params: spec,
      universe: { timeframe: "1h", symbols: ["BTC/USD", { provider: "kraken", symbol: "XBT/EUR" }] },
      warmup: 0,
      onBar(ctx) {
        const fast: number = ctx.params.fast
        const mode: "trend" | "revert" = ctx.params.mode
        ctx.log(`${fast} ${mode}`)
      }
    })
    expect(strategy).toMatchObject({ kind: "strategy", sdkVersion: 1 })
    expect(strategy.universe.symbols.map(universeKey)).toEqual(["BTC/USD", "kraken:XBT/EUR"])
  })
})
