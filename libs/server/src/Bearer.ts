/**
 * The credential a request presents, checked the same way by both auth middlewares. The scheme
 * must be `Bearer` (any case, RFC 7235): the platform's own decoding drops the first seven
 * characters whatever they say, so `Basic <token>` would otherwise pass as the token. A client
 * the throttle holds back is refused before its credential is looked at, and every wrong
 * credential is counted against its address.
 */
import { HttpServerRequest } from "@effect/platform"
import { Effect, Option, Redacted } from "effect"
import { AuthThrottle } from "./AuthThrottle"
import { clientAddress } from "./ClientAddress"

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

export type Verdict = "valid" | "missing" | "malformed" | "wrong"

/** The current request's credential against `expected` (none configured: nothing is valid). */
export const verify = (throttle: AuthThrottle["Type"], expected: Option.Option<Redacted.Redacted<string>>) =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const client = clientAddress(request)
    yield* AuthThrottle.check(throttle, client)
    const credential = presented(request)
    if (credential._tag === "Missing") return "missing" as const
    if (
      credential._tag === "Token" &&
      Option.isSome(expected) &&
      sameSecret(credential.token, Redacted.value(expected.value))
    )
      return "valid" as const
    yield* throttle.failed(client)
    return credential._tag === "Malformed" ? ("malformed" as const) : ("wrong" as const)
  })
