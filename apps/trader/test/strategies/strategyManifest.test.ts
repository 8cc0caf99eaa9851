import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { strategyManifest } from "../../src/strategies/strategyManifest"

const universe = { timeframe: "1m", symbols: ["BTC/USD", { provider: "kraken", symbol: "XBT/EUR" }] }

describe("a stored strategy manifest", () => {
  it("reads the Registry's ordered params list into the SDK's params record", () => {
    const read = strategyManifest({
      kind: "strategy",
      name: "sma-cross",
      version: "1.0.0",
      params: [
        { key: "fast", type: "integer", default: 10, min: 2, max: 200, label: "Fast SMA" },
        { key: "mode", type: "enum", values: ["a", "b"], default: "a" }
      ],
      universe,
      warmup: 30
    })
    expect(read).toEqual(
      Either.right({
        version: "1.0.0",
        params: {
          fast: { type: "integer", default: 10, min: 2, max: 200, label: "Fast SMA" },
          mode: { type: "enum", values: ["a", "b"], default: "a" }
        },
        universe,
        warmup: 30
      })
    )
  })

  it("reads the SDK's record form too", () => {
    const read = strategyManifest({ params: { on: { type: "boolean", default: true } }, universe, warmup: 0 })
    expect(Either.map(read, (m) => m.params)).toEqual(
      Either.right({ on: { type: "boolean", default: true } })
    )
  })

  it("refuses a provider's manifest, naming what is missing", () => {
    const read = strategyManifest({ name: "kraken", kind: "provider", capabilities: ["history"] })
    expect(Either.isLeft(read)).toBe(true)
    expect(Either.getLeft(read).pipe((o) => (o._tag === "Some" ? o.value : ""))).toContain("universe")
  })
})
