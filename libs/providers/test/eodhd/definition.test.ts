/** The provider's manifest: what the host and the UI read without calling it. */
import { describe, expect, it } from "vitest"
import eodhd from "../../src/eodhd"

describe("eodhd definition", () => {
  it("declares its name, timeframes, settings and limits", () => {
    expect(eodhd).toMatchObject({ kind: "provider", sdkVersion: 1, name: "eodhd" })
    expect(eodhd.timeframes).toEqual(["1m", "5m", "1h", "1d"])
    expect(eodhd.settings.apiToken).toMatchObject({ type: "string", secret: true, required: true })
    expect(eodhd.settings.baseUrl).toMatchObject({ type: "url", default: "https://eodhd.com/api" })
    expect(eodhd.settings.exchanges).toMatchObject({ type: "string", default: "US" })
    expect(eodhd.rateLimit?.requestsPerSecond).toBeLessThanOrEqual(1_000 / 60)
    expect(eodhd.publishDelayMs).toBe(3 * 3_600_000)
    expect(eodhd.live).toBeUndefined()
  })
})
