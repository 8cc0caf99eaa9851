/**
 * The server side of SCRAM-SHA-256 (RFC 5802 / RFC 7677) as PostgreSQL speaks it, without
 * channel binding (the embedded database listens on loopback without TLS). The password never
 * crosses the wire and a captured exchange cannot be replayed: each one has a fresh server nonce.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto"

export const MECHANISM = "SCRAM-SHA-256"
const ITERATIONS = 4096

export interface ScramVerifier {
  readonly salt: Buffer
  readonly iterations: number
  readonly storedKey: Buffer
  readonly serverKey: Buffer
}

const hmac = (key: Buffer, data: string) => createHmac("sha256", key).update(data).digest()
const sha256 = (data: Buffer) => createHash("sha256").update(data).digest()

/** What the server keeps instead of the password. */
export const verifier = (password: string): ScramVerifier => {
  const salt = randomBytes(16)
  const salted = pbkdf2Sync(password.normalize("NFKC"), salt, ITERATIONS, 32, "sha256")
  return {
    salt,
    iterations: ITERATIONS,
    storedKey: sha256(hmac(salted, "Client Key")),
    serverKey: hmac(salted, "Server Key")
  }
}

/** `a=…,b=…` attributes; a value may itself contain `=`. */
const attributes = (text: string): ReadonlyMap<string, string> => {
  const map = new Map<string, string>()
  for (const part of text.split(",")) {
    const eq = part.indexOf("=")
    if (eq === 1) map.set(part[0]!, part.slice(2))
  }
  return map
}

const PRINTABLE_NONCE = /^[\x21-\x2b\x2d-\x7e]+$/

export type Step =
  | { readonly _tag: "Continue"; readonly serverFirst: string }
  | { readonly _tag: "Done"; readonly serverFinal: string }
  | { readonly _tag: "Refused"; readonly reason: string }

/** One authentication attempt: `first` takes the client-first message, `final` the client-final. */
export const exchange = (v: ScramVerifier) => {
  let clientFirstBare = ""
  let serverFirst = ""
  let nonce = ""
  let gs2Header = ""
  return {
    first(clientFirst: string): Step {
      // gs2 header: "n,," (client does not support channel binding) or "y,," (it does, we do not).
      const match = /^([ny]),(?:a=[^,]*)?,(.*)$/s.exec(clientFirst)
      if (!match)
        return {
          _tag: "Refused",
          reason: "malformed SCRAM client-first-message (channel binding is not offered)"
        }
      gs2Header = clientFirst.slice(0, clientFirst.length - match[2]!.length)
      clientFirstBare = match[2]!
      const clientNonce = attributes(clientFirstBare).get("r")
      if (!clientNonce || !PRINTABLE_NONCE.test(clientNonce))
        return { _tag: "Refused", reason: "malformed SCRAM nonce" }
      nonce = clientNonce + randomBytes(18).toString("base64")
      serverFirst = `r=${nonce},s=${v.salt.toString("base64")},i=${v.iterations}`
      return { _tag: "Continue", serverFirst }
    },
    final(clientFinal: string): Step {
      if (serverFirst === "")
        return { _tag: "Refused", reason: "SCRAM client-final-message before client-first" }
      const proofAt = clientFinal.lastIndexOf(",p=")
      if (proofAt < 0) return { _tag: "Refused", reason: "SCRAM proof missing" }
      const withoutProof = clientFinal.slice(0, proofAt)
      const attrs = attributes(withoutProof)
      if (attrs.get("c") !== Buffer.from(gs2Header).toString("base64")) {
        return { _tag: "Refused", reason: "SCRAM channel binding does not match" }
      }
      if (attrs.get("r") !== nonce) return { _tag: "Refused", reason: "SCRAM nonce does not match" }
      const proof = Buffer.from(clientFinal.slice(proofAt + 3), "base64")
      if (proof.length !== v.storedKey.length)
        return { _tag: "Refused", reason: "SCRAM proof has the wrong length" }
      const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`
      const signature = hmac(v.storedKey, authMessage)
      const clientKey = Buffer.alloc(proof.length)
      for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i]! ^ signature[i]!
      if (!timingSafeEqual(sha256(clientKey), v.storedKey))
        return { _tag: "Refused", reason: "wrong password" }
      return { _tag: "Done", serverFinal: `v=${hmac(v.serverKey, authMessage).toString("base64")}` }
    }
  }
}
