import { describe, expect, it } from "@effect/vitest"
import { checkExport } from "../../src/sandbox/contract"

const strategy = {
  kind: "strategy",
  sdkVersion: 1,
  name: "sma-cross",
  version: "1.0.0",
  params: { fast: { type: "integer", default: 10, min: 2 } },
  universe: { timeframe: "1h", symbols: ["BTC/USD"] },
  warmup: 30,
  onBar() {}
}

const problems = (exported: unknown) => {
  const checked = checkExport({ default: exported })
  return checked.ok ? [] : checked.problems
}

describe("the sandbox's check of a strategy export", () => {
  it("passes a defineStrategy export on: its data fields for the host to decode, no functions to call", async () => {
    const checked = checkExport({ default: strategy })
    expect(checked.ok).toBe(true)
    if (!checked.ok) return
    expect(checked.functions).toEqual([])
    expect(checked.manifest).toMatchObject({
      kind: "strategy",
      name: "sma-cross",
      params: strategy.params,
      universe: strategy.universe,
      warmup: 30
    })
    // Nothing reaches a strategy through the provider protocol.
    await expect(checked.module.listAssets({} as never)).rejects.toThrow("a strategy is not a provider")
  })

  it("names what is missing or wrong, in the strategy's terms", () => {
    expect(problems({ ...strategy, sdkVersion: 2, onBar: "buy" })).toEqual([
      "sdkVersion is 2; this DataHub runs SDK version 1: build it with defineStrategy({...}) from @quasar/providers/sdk",
      "onBar must be a function (ctx, bars) => void"
    ])
    expect(problems({ ...strategy, name: "", params: ["fast"] })).toEqual([
      "name must be a non-empty string",
      "params must be an object of param specs (use {} when there are none)"
    ])
    expect(problems({ ...strategy, params: { fast: { type: "integer", default: 1, min: 2 } } })).toEqual([
      "params: the default of fast must be at least 2 (got 1)"
    ])
  })

  it("leaves a spec too malformed to check (an enum without values) to the host's decoding", () => {
    expect(problems({ ...strategy, params: { side: { type: "enum", default: "long" } } })).toEqual([])
  })

  it("survives an export whose fields throw when read", () => {
    const hostile = {
      ...strategy,
      get onBar(): never {
        throw new Error("gotcha")
      }
    }
    expect(problems(hostile)).toEqual(["reading the default export threw: gotcha"])
  })
})
