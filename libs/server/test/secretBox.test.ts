/** Sealed provider secrets: v2 envelopes bound to their provider and setting, v1 still readable. */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Redacted } from "effect"
import * as SecretBox from "../src/SecretBox"

const key = Redacted.make("a-deployment-secret-key-0123456789")
const binding = { provider: "eodhd", setting: "apiToken" }

/** A v1 envelope as the previous SecretBox wrote it: key = SHA-256 of the secret, no associated data. */
const sealV1 = (secret: string, plaintext: string) =>
  Effect.promise(async () => {
    const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url")
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret))
    const k = await crypto.subtle.importKey("raw", digest, "AES-GCM", false, ["encrypt"])
    const iv = crypto.getRandomValues(new Uint8Array(12))
    const sealed = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv },
      k,
      new TextEncoder().encode(plaintext)
    )
    return `v1:${b64(iv)}:${b64(new Uint8Array(sealed))}`
  })

describe("SecretBox", () => {
  it.effect("seals as v2 with a fresh salt and IV per value, and opens where it was sealed", () =>
    Effect.gen(function* () {
      const box = yield* SecretBox.make(key)
      const a = yield* box.seal("s3cret", binding)
      const b = yield* box.seal("s3cret", binding)
      expect(a).toMatch(/^v2:[\w-]{22}:[\w-]{16}:[\w-]+$/)
      expect(a.split(":")[1]).not.toBe(b.split(":")[1])
      expect(a).not.toBe(b)
      expect(a).not.toContain("s3cret")
      expect(yield* box.open(a, binding)).toBe("s3cret")
      expect(yield* box.open(b, binding)).toBe("s3cret")
    })
  )

  it.effect("refuses a value moved to another setting or provider, or opened with another key", () =>
    Effect.gen(function* () {
      const box = yield* SecretBox.make(key)
      const sealed = yield* box.seal("s3cret", binding)
      for (const elsewhere of [
        { provider: "eodhd", setting: "baseUrl" },
        { provider: "acme", setting: "apiToken" },
        // The pair is unambiguous: no shifting of characters between the two names.
        { provider: "eodhdapi", setting: "Token" }
      ]) {
        const opened = yield* Effect.either(box.open(sealed, elsewhere))
        expect(Either.isLeft(opened)).toBe(true)
      }
      const other = yield* SecretBox.make(Redacted.make("another-deployment-key-0123456789"))
      const error = yield* Effect.flip(other.open(sealed, binding))
      expect(error.message).toContain("QUASAR_SECRET_KEY")
    })
  )

  it.effect("refuses tampered and malformed envelopes", () =>
    Effect.gen(function* () {
      const box = yield* SecretBox.make(key)
      const sealed = yield* box.seal("s3cret", binding)
      const [v, salt, iv, data = ""] = sealed.split(":")
      const flipped = `${data.slice(0, 5)}${data[5] === "A" ? "B" : "A"}${data.slice(6)}`
      for (const bad of [`${v}:${salt}:${iv}:${flipped}`, "v2:x:y", "v3:a:b:c", "", "plain"])
        expect(Either.isLeft(yield* Effect.either(box.open(bad, binding)))).toBe(true)
    })
  )

  it.effect("still opens v1 envelopes, which it recognises as legacy", () =>
    Effect.gen(function* () {
      const box = yield* SecretBox.make(key)
      const legacy = yield* sealV1(Redacted.value(key), "old-s3cret")
      expect(SecretBox.isLegacy(legacy)).toBe(true)
      expect(SecretBox.isLegacy(yield* box.seal("x", binding))).toBe(false)
      expect(yield* box.open(legacy, binding)).toBe("old-s3cret")
    })
  )
})
