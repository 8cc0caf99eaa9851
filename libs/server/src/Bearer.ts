/**
 * The credential a request presents, read from `Authorization` by both auth middlewares. The
 * scheme must be `Bearer` (any case, RFC 7235): the platform's own decoding drops the first
 * seven characters whatever they say, so `Basic <token>` would otherwise pass as the token.
 */
import type { HttpServerRequest } from "@effect/platform"

export type Presented =
  | { readonly _tag: "Missing" }
  | { readonly _tag: "Malformed" }
  | { readonly _tag: "Token"; readonly token: string }

export const presented = (request: HttpServerRequest.HttpServerRequest): Presented => {
  const header = request.headers.authorization
  if (header === undefined || header.trim() === "") return { _tag: "Missing" }
  const match = /^Bearer +([^\s]+) *$/i.exec(header)
  return match?.[1] ? { _tag: "Token", token: match[1] } : { _tag: "Malformed" }
}

/** Constant-time comparison, so a wrong token's timing says nothing about the right one. */
export const sameSecret = (a: string, b: string): boolean => {
  const x = new TextEncoder().encode(a)
  const y = new TextEncoder().encode(b)
  let diff = x.length ^ y.length
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0)
  return diff === 0
}
