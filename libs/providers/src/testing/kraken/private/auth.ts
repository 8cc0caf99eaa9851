/**
 * The fake's check of a private request, done as Kraken documents it and computed independently
 * of the broker's WebCrypto signer (node:crypto here), so a mistake on one side cannot hide in
 * the other. "API-Sign: HMAC-SHA512 of (URI path + SHA256(nonce + POST data)) and base64 decoded
 * secret API key" over the body exactly as received (docs.kraken.com/api/docs/guides/spot-rest-auth);
 * the nonce is an "always increasing, unsigned 64-bit integer" per key and one "less than or
 * equal to the last accepted nonce for this API key" is refused (…/exchange/guides/general/errors).
 * The nonce window is 0, Kraken's default (support.kraken.com "What is a nonce window?").
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto"
import type { FakeAccount, FakeApiKey } from "./account"

const U64_MAX = 2n ** 64n - 1n

export const expectedSignature = (uriPath: string, nonce: string, body: string, secret: string): Buffer =>
  createHmac("sha512", Buffer.from(secret, "base64"))
    .update(uriPath)
    .update(
      createHash("sha256")
        .update(nonce + body)
        .digest()
    )
    .digest()

export type AuthOutcome =
  | { readonly ok: true; readonly account: FakeAccount }
  | { readonly ok: false; readonly error: string }

/**
 * Key, then signature, then nonce; the nonce is spent only by a correctly signed request, so
 * nobody without the secret can burn a key's nonces.
 */
export const authenticate = (
  keys: ReadonlyMap<string, FakeApiKey>,
  uriPath: string,
  headers: { readonly apiKey: string | undefined; readonly apiSign: string | undefined },
  body: string,
  nonce: string | null
): AuthOutcome => {
  const key = headers.apiKey === undefined ? undefined : keys.get(headers.apiKey)
  if (key === undefined) return { ok: false, error: "EAPI:Invalid key" }
  const given = Buffer.from(headers.apiSign ?? "", "base64")
  const expected = expectedSignature(uriPath, nonce ?? "", body, key.secret)
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, error: "EAPI:Invalid signature" }
  if (nonce === null || !/^\d{1,20}$/.test(nonce)) return { ok: false, error: "EAPI:Invalid nonce" }
  const value = BigInt(nonce)
  if (value > U64_MAX || value <= key.lastNonce) return { ok: false, error: "EAPI:Invalid nonce" }
  key.lastNonce = value
  return { ok: true, account: key.account }
}
