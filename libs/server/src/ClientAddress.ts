/**
 * The address a request comes from, for per-client limits (credential throttling, `/live`
 * connections). Behind Nginx or the `npm start` proxy the peer is the proxy, on loopback or a
 * private network, and the client is the last `X-Forwarded-For` entry: the one that proxy
 * appended. A peer on a public address is the client itself, whatever header it sends.
 */
import type { HttpServerRequest } from "@effect/platform"
import { Option } from "effect"

const unmapped = (address: string) => address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, "")

/** Loopback, RFC 1918, unique-local and link-local addresses: where a reverse proxy sits. */
export const isPrivate = (address: string): boolean => {
  const a = unmapped(address).toLowerCase()
  const v4 = /^(\d+)\.(\d+)\.\d+\.\d+$/.exec(a)
  if (v4) {
    const [first, second] = [Number(v4[1]), Number(v4[2])]
    return (
      first === 127 ||
      first === 10 ||
      (first === 172 && second >= 16 && second <= 31) ||
      (first === 192 && second === 168) ||
      (first === 169 && second === 254)
    )
  }
  return a === "::1" || /^f[cd][0-9a-f]{2}:/.test(a) || /^fe[89ab][0-9a-f]:/.test(a)
}

export const clientAddress = (request: HttpServerRequest.HttpServerRequest): string => {
  const peer = unmapped(Option.getOrElse(request.remoteAddress, () => "unknown"))
  if (!isPrivate(peer)) return peer
  const forwarded = request.headers["x-forwarded-for"]
  const last = forwarded?.split(",").pop()?.trim()
  return last ? unmapped(last) : peer
}
