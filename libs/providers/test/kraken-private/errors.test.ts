/** Kraken's documented error strings (docs.kraken.com/api/docs/guides/spot-errors) as SDK errors. */
import { describe, expect, it } from "vitest"
import { krakenError } from "../../src/kraken/private/errors"
import { FatalError, RetryableError } from "../../src/sdk"

const cases: ReadonlyArray<readonly [string, "fatal" | "retryable", string | undefined]> = [
  ["EAPI:Invalid key", "fatal", "invalidCredentials"],
  ["EAPI:Invalid signature", "fatal", "invalidCredentials"],
  ["EGeneral:Permission denied", "fatal", "invalidCredentials"],
  ["EGeneral:Temporary lockout", "fatal", "invalidCredentials"],
  ["EAPI:Invalid nonce", "retryable", "nonce"],
  ["EOrder:Insufficient funds", "fatal", "insufficientFunds"],
  ["EQuery:Unknown asset pair", "fatal", "unknownSymbol"],
  ["EOrder:Unknown order", "fatal", "unknownOrder"],
  ["EOrder:Order minimum not met", "fatal", "invalidOrder"],
  ["EOrder:Cost minimum not met", "fatal", "invalidOrder"],
  ["EOrder:Tick size check failed", "fatal", "invalidOrder"],
  ["EGeneral:Invalid arguments", "fatal", "invalidOrder"],
  ["EGeneral:Invalid arguments:Index unavailable", "fatal", "invalidOrder"],
  ["EAPI:Rate limit exceeded", "retryable", "rateLimited"],
  ["EOrder:Rate limit exceeded", "retryable", "rateLimited"],
  ["EService:Unavailable", "retryable", "unavailable"],
  ["EService: Throttled: 1700000060", "retryable", "rateLimited"],
  ["EService:Market in cancel_only mode", "retryable", "unavailable"],
  ["EService:Deadline elapsed", "retryable", "unavailable"],
  ["EGeneral:Internal error:2", "retryable", "unavailable"],
  ["ESomething:New", "retryable", undefined]
]

describe("Kraken private error strings", () => {
  it.each(cases)("%s is %s with reason %s", (error, kind, reason) => {
    const mapped = krakenError("AddOrder", [error], 0)
    expect(mapped).toBeInstanceOf(kind === "fatal" ? FatalError : RetryableError)
    expect(mapped.reason).toBe(reason)
    expect(mapped.message).toContain(`Kraken AddOrder: ${error}`)
  })

  it("says what to do about credentials", () => {
    expect(krakenError("Balance", ["EAPI:Invalid signature"], 0).message).toMatch(
      /check the apiSecret setting/
    )
    expect(krakenError("Balance", ["EGeneral:Permission denied"], 0).message).toMatch(/Query Funds/)
  })

  it("says when a throttled request may come back", () => {
    const throttled = krakenError("OpenOrders", ["EService: Throttled: 1700000060"], 1_700_000_000_000)
    expect(throttled).toMatchObject({ reason: "rateLimited", retryAfterMs: 60_000 })
  })
})
