import { describe, expect, it } from "@effect/vitest"
import { activatedName } from "../src/RefreshOnActivation"

describe("refresh on activation", () => {
  it("refreshes a provider's or broker's assets, never a strategy's", () => {
    expect(activatedName({ event: "activated", name: "kraken", version: 2, kind: "provider" })).toBe("kraken")
    expect(activatedName({ event: "activated", name: "ibkr", version: 1, kind: "broker" })).toBe("ibkr")
    // Events from a Registry that does not say the kind yet still refresh.
    expect(activatedName({ event: "activated", name: "kraken", version: 2 })).toBe("kraken")
    expect(
      activatedName({ event: "activated", name: "sma-cross", version: 1, kind: "strategy" })
    ).toBeUndefined()
    expect(activatedName({ event: "disabled", name: "kraken" })).toBeUndefined()
  })
})
