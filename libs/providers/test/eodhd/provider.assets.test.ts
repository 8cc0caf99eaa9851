/** listAssets against the fake EODHD. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import eodhd from "../../src/eodhd"
import { type FakeEodhd, startFakeEodhd } from "../../src/testing/eodhd/server"
import { context, NOW, rejection, TOKEN } from "./harness"

let fake: FakeEodhd
const ctx = (exchanges: string) => context(fake.baseUrl, () => NOW, { exchanges })

beforeAll(async () => {
  fake = await startFakeEodhd({ now: () => NOW, validTokens: [TOKEN] })
})
afterAll(() => fake.close())
beforeEach(() => fake.reset())

describe("listAssets", () => {
  it("lists the US exchange with CODE.US symbols, classes and nullable ISINs", async () => {
    const assets = await eodhd.listAssets(ctx("US"))
    expect(fake.requests.map((r) => [r.path, r.query.fmt])).toEqual([
      ["/api/exchange-symbol-list/US", "json"]
    ])
    expect(assets).toHaveLength(10)
    const bySymbol = new Map(assets.map((a) => [a.symbol, a]))
    expect(bySymbol.get("AAPL.US")).toMatchObject({
      name: "Apple Inc",
      assetClass: "equity",
      exchange: "NASDAQ",
      currency: "USD",
      isin: "US0378331005"
    })
    expect(bySymbol.get("VTI.US")?.assetClass).toBe("etf")
    expect(bySymbol.get("SWPPX.US")).toMatchObject({ assetClass: "fund", isin: undefined })
    expect(bySymbol.get("BAC-PL.US")?.isin).toBeUndefined()
  })

  it("lists several exchanges, with pairs split into base and quote", async () => {
    const assets = await eodhd.listAssets(ctx(" US, cc ,FOREX,us"))
    expect(fake.requestCount("exchange-symbol-list")).toBe(3)
    const bySymbol = new Map(assets.map((a) => [a.symbol, a]))
    expect(bySymbol.get("BTC-USD.CC")).toMatchObject({ assetClass: "crypto", base: "BTC", quote: "USD" })
    expect(bySymbol.get("USDJPY.FOREX")).toMatchObject({ assetClass: "fx", base: "USD", quote: "JPY" })
    expect(assets).toHaveLength(17)
  })

  it("an unknown exchange or an empty setting is fatal", async () => {
    expect((await rejection(eodhd.listAssets(ctx("NOPE")))).name).toBe("FatalError")
    expect((await rejection(eodhd.listAssets(ctx(" , ")))).name).toBe("FatalError")
  })
})
