/** Kraken's API-Sign, checked against the worked example of Kraken's own documentation. */
import { randomBytes } from "node:crypto"
import { describe, expect, it } from "vitest"
import { base64Decode, base64Encode, signRequest } from "../../src/kraken/private/sign"
import { expectedSignature } from "../../src/testing/kraken/private/auth"

// docs.kraken.com/api/docs/guides/spot-rest-auth, "Examples": a limit order, buy 1.25 XBTUSD at $37,500.
const DOC = {
  secret: "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg==",
  nonce: "1616492376594",
  body: "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25",
  path: "/0/private/AddOrder",
  apiSign: "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="
}

describe("Kraken API-Sign (WebCrypto)", () => {
  it("reproduces the documented example byte for byte", async () => {
    expect(await signRequest(DOC.path, DOC.nonce, DOC.body, DOC.secret)).toBe(DOC.apiSign)
  })

  it("the fake's independent node:crypto check computes the same example", () => {
    expect(expectedSignature(DOC.path, DOC.nonce, DOC.body, DOC.secret).toString("base64")).toBe(DOC.apiSign)
  })

  it("agrees with the fake's check on random secrets, nonces and bodies", async () => {
    for (let i = 0; i < 20; i++) {
      const secret = randomBytes(64).toString("base64")
      const nonce = String(1_700_000_000_000_000 + i * 7919)
      const body = `nonce=${nonce}&pair=XBTUSD&cl_ord_id=${randomBytes(8).toString("hex")}&deadline=2026-05-01T12%3A00%3A15.000Z`
      const path = i % 2 === 0 ? "/0/private/Balance" : "/0/private/AddOrder"
      expect(await signRequest(path, nonce, body, secret)).toBe(
        expectedSignature(path, nonce, body, secret).toString("base64")
      )
    }
  })

  it("changes with every part of the message", async () => {
    const base = await signRequest(DOC.path, DOC.nonce, DOC.body, DOC.secret)
    expect(await signRequest("/0/private/Balance", DOC.nonce, DOC.body, DOC.secret)).not.toBe(base)
    expect(await signRequest(DOC.path, "1616492376595", DOC.body, DOC.secret)).not.toBe(base)
    expect(await signRequest(DOC.path, DOC.nonce, `${DOC.body}0`, DOC.secret)).not.toBe(base)
  })

  it("round-trips base64 and refuses what is not base64", () => {
    const bytes = new Uint8Array(randomBytes(33))
    expect(base64Decode(base64Encode(bytes))).toEqual(bytes)
    expect(() => base64Decode("not base64!")).toThrow()
  })
})
