/**
 * Encrypts provider secrets at rest with AES-256-GCM (WebCrypto, so it runs anywhere). The key
 * is SHA-256 of `QUASAR_SECRET_KEY`; each value gets a fresh 96-bit IV. Envelope:
 * `v1:<iv>:<ciphertext+tag>` in base64url.
 */
import { Effect, Redacted, Schema } from "effect"

export class SecretError extends Schema.TaggedError<SecretError>()("SecretError", {
  message: Schema.String
}) {}

const b64 = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "")
const unb64 = (s: string) =>
  Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (s.length % 4)) % 4)), (c) =>
    c.charCodeAt(0)
  )

const importKey = (secret: Redacted.Redacted<string>) =>
  Effect.promise(async () => {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(Redacted.value(secret)))
    return crypto.subtle.importKey("raw", digest, "AES-GCM", false, ["encrypt", "decrypt"])
  })

export interface SecretBox {
  readonly seal: (plaintext: string) => Effect.Effect<string>
  readonly open: (envelope: string) => Effect.Effect<string, SecretError>
}

export const make = (secret: Redacted.Redacted<string>): Effect.Effect<SecretBox> =>
  Effect.map(importKey(secret), (key) => ({
    seal: (plaintext) =>
      Effect.promise(async () => {
        const iv = crypto.getRandomValues(new Uint8Array(12))
        const sealed = await crypto.subtle.encrypt(
          { name: "AES-GCM", iv },
          key,
          new TextEncoder().encode(plaintext)
        )
        return `v1:${b64(iv)}:${b64(new Uint8Array(sealed))}`
      }),
    open: (envelope) =>
      Effect.tryPromise({
        try: async () => {
          const [version, iv, data] = envelope.split(":")
          if (version !== "v1" || !iv || !data) throw new Error("unknown envelope format")
          const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: unb64(iv) }, key, unb64(data))
          return new TextDecoder().decode(plain)
        },
        catch: () =>
          new SecretError({
            message:
              "cannot decrypt a stored secret: QUASAR_SECRET_KEY differs from the key it was stored with"
          })
      })
  }))
