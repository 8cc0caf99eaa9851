/**
 * Kraken's request signature, computed with WebCrypto only: broker code runs in the sandbox,
 * where `crypto.subtle` is available and `node:crypto` is not.
 *
 * "API-Sign: HMAC-SHA512 of (URI path + SHA256(nonce + POST data)) and base64 decoded secret API
 * key", where the URI path is "the part starting with /0/private" and POST data is the encoded
 * body exactly as sent, nonce included (docs.kraken.com/api/docs/guides/spot-rest-auth). The
 * guide's worked example is this module's test vector.
 */
const utf8 = new TextEncoder()

/** Bytes of a base64 string; throws on anything that is not base64. */
export const base64Decode = (text: string): Uint8Array<ArrayBuffer> => {
  const binary = atob(text)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

export const base64Encode = (bytes: Uint8Array): string => {
  let binary = ""
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary)
}

/** The `API-Sign` header for a request to `uriPath` (`/0/private/AddOrder`). */
export const signRequest = async (
  uriPath: string,
  nonce: string,
  postData: string,
  secret: string
): Promise<string> => {
  const inner = new Uint8Array(await crypto.subtle.digest("SHA-256", utf8.encode(nonce + postData)))
  const path = utf8.encode(uriPath)
  const message = new Uint8Array(path.length + inner.length)
  message.set(path)
  message.set(inner, path.length)
  const key = await crypto.subtle.importKey(
    "raw",
    base64Decode(secret),
    { name: "HMAC", hash: "SHA-512" },
    false,
    ["sign"]
  )
  return base64Encode(new Uint8Array(await crypto.subtle.sign("HMAC", key, message)))
}
