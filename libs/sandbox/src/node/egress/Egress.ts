/** What the relays need to make connections for sandboxed code: the rules and a pinned dispatcher. */
import type { Dispatcher } from "undici"
import type { EgressRules } from "./EgressPolicy"
import { EgressDenied, egressAgent, type Resolver, systemResolver } from "./pinnedConnector"

export interface Egress {
  readonly rules: EgressRules
  readonly resolve: Resolver
  /** Checks and pins every connection it opens (see pinnedConnector.ts). */
  readonly dispatcher: Dispatcher
}

export const makeEgress = (rules: EgressRules, resolve: Resolver = systemResolver): Egress => ({
  rules,
  resolve,
  dispatcher: egressAgent(rules, resolve)
})

/** The policy's refusal somewhere in an error's cause chain (undici wraps connect errors). */
export const deniedReason = (error: unknown): string | undefined => {
  for (let cur: unknown = error, depth = 0; cur instanceof Error && depth < 5; depth++) {
    if (cur instanceof EgressDenied) return cur.reason
    cur = cur.cause
  }
  return undefined
}

/** The deepest message of an error chain ("connect ECONNREFUSED 127.0.0.1:9"). */
export const rootMessage = (error: unknown): string => {
  let message = error instanceof Error ? error.message : String(error)
  for (let cur: unknown = error, depth = 0; cur instanceof Error && depth < 5; depth++) {
    message = cur.message || message
    cur = cur.cause
  }
  return message
}

/**
 * A URL as logs and errors show it: without query, fragment or credentials, which is where
 * provider code puts API keys (and where exfiltration would put secrets).
 */
export const shownUrl = (url: string): string => {
  try {
    const parsed = new URL(url)
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`.slice(0, 500)
  } catch {
    return "(an invalid URL)"
  }
}

/** The error the child sees for a refused destination: fatal, since retrying cannot help. */
export const refusal = (url: string, reason: string) => ({
  name: "FatalError",
  message: `the sandbox's egress policy refused ${shownUrl(url)}: ${reason}`
})
