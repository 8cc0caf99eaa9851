/**
 * Encrypts provider secrets at rest with AES-256-GCM, in WebCrypto so it runs anywhere.
 *
 * Envelope `v2:<salt>:<iv>:<ciphertext+tag>` (base64url): each value gets a fresh 128-bit salt,
 * from which HKDF-SHA-256 derives its own key from `QUASAR_SECRET_KEY`, and a fresh 96-bit IV.
 * The provider and setting name are the GCM associated data, so a sealed value copied to another
 * setting or provider (say, into a base URL an attacker controls) fails to open instead of
 * being sent there.
 *
 * `v1:<iv>:<ciphertext+tag>` (key = one unsalted SHA-256 of the secret, no associated data)
 * still opens, so values stored before v2 keep working until the Registry re-seals them.
 */
import { Effect, Redacted, Schema } from "effect"

export class SecretError extends Schema.TaggedError<SecretError>()("SecretError", {
  message: Schema.String
}) {}

/** Where a sealed value belongs: it opens only there. */
export interface SecretBinding {
  readonly provider: string
  readonly setting: string
}

const b64 = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "")
const unb64 = (s: string) =>
  Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (s.length % 4)) % 4)), (c) =>
    c.charCodeAt(0)
  )
const utf8 = (s: string) => new TextEncoder().encode(s)

const HKDF_INFO = utf8("quasar provider secret v2")
/** Unambiguous for any names: JSON of the pair. */
const associatedData = (binding: SecretBinding) => utf8(JSON.stringify([binding.provider, binding.setting]))

export const isLegacy = (envelope: string): boolean => envelope.startsWith("v1:")

export interface SecretBox {
  readonly seal: (plaintext: string, binding: SecretBinding) => Effect.Effect<string>
  readonly open: (envelope: string, binding: SecretBinding) => Effect.Effect<string, SecretError>
}

const cannotOpen = (binding: SecretBinding) =>
  new SecretError({
    message: `cannot decrypt the stored secret "${binding.setting}" of ${binding.provider}: QUASAR_SECRET_KEY differs from the key it was stored with, or the value was moved from another setting; set it again`
  })

export const make = (secret: Redacted.Redacted<string>): Effect.Effect<SecretBox> =>
  Effect.promise(async () => {
    const material = utf8(Redacted.value(secret))
    const master = await crypto.subtle.importKey("raw", material, "HKDF", false, ["deriveKey"])
    const legacy = await crypto.subtle.importKey(
      "raw",
      await crypto.subtle.digest("SHA-256", material),
      "AES-GCM",
      false,
      ["decrypt"]
    )
    const keyFor = (salt: Uint8Array<ArrayBuffer>) =>
      crypto.subtle.deriveKey(
        { name: "HKDF", hash: "SHA-256", salt, info: HKDF_INFO },
        master,
        { name: "AES-GCM", length: 256 },
        false,
        ["encrypt", "decrypt"]
      )
    const box: SecretBox = {
      seal: (plaintext, binding) =>
        Effect.promise(async () => {
          const salt = crypto.getRandomValues(new Uint8Array(16))
          const iv = crypto.getRandomValues(new Uint8Array(12))
          const sealed = await crypto.subtle.encrypt(
            { name: "AES-GCM", iv, additionalData: associatedData(binding) },
            await keyFor(salt),
            utf8(plaintext)
          )
          return `v2:${b64(salt)}:${b64(iv)}:${b64(new Uint8Array(sealed))}`
        }),
      open: (envelope, binding) =>
        Effect.tryPromise({
          try: async () => {
            const [version, ...parts] = envelope.split(":")
            if (version === "v2" && parts.length === 3) {
              const [salt = "", iv = "", data = ""] = parts
              const plain = await crypto.subtle.decrypt(
                { name: "AES-GCM", iv: unb64(iv), additionalData: associatedData(binding) },
                await keyFor(unb64(salt)),
                unb64(data)
              )
              return new TextDecoder().decode(plain)
            }
            if (version === "v1" && parts.length === 2) {
              const [iv = "", data = ""] = parts
              const plain = await crypto.subtle.decrypt(
                { name: "AES-GCM", iv: unb64(iv) },
                legacy,
                unb64(data)
              )
              return new TextDecoder().decode(plain)
            }
            throw new Error("unknown envelope format")
          },
          catch: () => cannotOpen(binding)
        })
    }
    return box
  })
