import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import { DeploymentRequest } from "../src/Deployment"

const decode = Schema.decodeUnknownEither(DeploymentRequest)

const valid = {
  strategy: "sma-cross",
  provider: "kraken",
  account: { type: "paper" },
  risk: { maxOrderNotional: 5_000, maxPositionNotional: 10_000, maxDailyLoss: 500 }
}

describe("DeploymentRequest", () => {
  it("fills in the paper account's defaults", () => {
    const decoded = Either.getOrThrow(decode(valid))
    expect(decoded.account).toEqual({
      type: "paper",
      initialCash: 10_000,
      quote: "USD",
      feeBps: 10,
      slippageBps: 5
    })
    expect(decoded.params).toEqual({})
  })

  it("refuses risk limits that are not positive numbers, and accounts that are not paper", () => {
    for (const junk of [
      { ...valid, risk: { ...valid.risk, maxDailyLoss: 0 } },
      { ...valid, risk: { ...valid.risk, maxOrderNotional: Number.NaN } },
      { ...valid, risk: { maxOrderNotional: 1 } },
      { ...valid, account: { type: "kraken" } },
      { ...valid, account: { type: "paper", initialCash: -1 } },
      { ...valid, account: { type: "paper", quote: "usd" } },
      { ...valid, strategy: "Not A Name" }
    ])
      expect(Either.isLeft(decode(junk))).toBe(true)
  })
})
