/**
 * The egress decision for one connection of sandboxed code, made on the address actually
 * connected to (after DNS): public addresses are reachable, every other range is not unless an
 * allowlist entry names the host; the database's and the services' own ports stay closed on
 * non-public addresses even then, except for an entry naming exactly that host and port.
 * Pure: the caller resolves names and pins the connection to the address it passed here.
 */
import { type AddressRange, classifyAddress } from "./addressRanges"

/** One allowlist entry: a host name or IP address, optionally with a port. */
export interface AllowEntry {
  readonly host: string
  readonly port?: number | undefined
}

/** A port sandboxed code must not reach on a non-public address (or on `addresses`). */
export interface ReservedPort {
  readonly port: number
  /** What listens there, for the reason ("the database"). */
  readonly what: string
  /** Public addresses where this port is also closed (a database on a public address). */
  readonly addresses?: ReadonlyArray<string> | undefined
}

export interface EgressRules {
  readonly allow: ReadonlyArray<AllowEntry>
  readonly reserved: ReadonlyArray<ReservedPort>
  /**
   * When given, the only host names (or IP addresses, as URLs spell them) the code may reach at
   * all, before any other rule: a broker reaches the hosts its URL settings name and nothing else.
   */
  readonly onlyHosts?: ReadonlyArray<string> | undefined
}

/** Why `host` is refused by `onlyHosts`, or undefined when it may be tried. */
export const unnamedHost = (rules: EgressRules, host: string): string | undefined => {
  if (rules.onlyHosts === undefined) return undefined
  const wanted = normalHost(host)
  if (rules.onlyHosts.some((h) => normalHost(h) === wanted)) return undefined
  const named = rules.onlyHosts.length === 0 ? "none" : rules.onlyHosts.join(", ")
  return `${host} is not a host this code's settings name (it may reach ${named}); change the URL setting to reach another`
}

export interface Destination {
  /** The host as the URL names it (a name or an IP address). */
  readonly host: string
  readonly port: number
  /** The resolved address the connection goes to. */
  readonly address: string
}

export type Verdict = { readonly allowed: true } | { readonly allowed: false; readonly reason: string }

const ALLOWED: Verdict = { allowed: true }
const deny = (reason: string): Verdict => ({ allowed: false, reason })

/** Ranges no allowlist entry opens: connecting there reaches this machine or everyone. */
const NEVER: ReadonlySet<AddressRange> = new Set(["unspecified", "multicast"])

const RANGE_WORDS: Record<AddressRange, string> = {
  public: "public",
  unspecified: "the unspecified address",
  loopback: "loopback",
  private: "a private range",
  shared: "the carrier-grade NAT range",
  "link-local": "link-local (where cloud metadata services live)",
  "unique-local": "a unique-local IPv6 range",
  multicast: "multicast",
  reserved: "a reserved range"
}

/** A host as entries and destinations compare it: lower case, IPs canonical, no brackets or dot. */
export const normalHost = (host: string): string => {
  const lower = host.toLowerCase().replace(/\.$/, "")
  return classifyAddress(lower)?.address ?? (lower.startsWith("[") ? lower.slice(1, -1) : lower)
}

export const decide = (rules: EgressRules, destination: Destination): Verdict => {
  const unnamed = unnamedHost(rules, destination.host)
  if (unnamed !== undefined) return deny(unnamed)
  const target = classifyAddress(destination.address)
  const where = `${destination.host}:${destination.port}`
  if (!target) return deny(`${where} resolved to ${destination.address}, which is not an IP address`)
  const host = normalHost(destination.host)
  const names = (entry: AllowEntry) => {
    const named = normalHost(entry.host)
    return named === host || named === target.address
  }
  const at = target.address === host ? target.address : `${destination.host} (${target.address})`
  if (NEVER.has(target.range))
    return deny(
      `${at} is ${RANGE_WORDS[target.range]} (${target.cidr}), which sandboxed code may never reach`
    )
  if (rules.allow.some((entry) => entry.port === destination.port && names(entry))) return ALLOWED
  const reserved = rules.reserved.find(
    (r) =>
      r.port === destination.port &&
      (target.range !== "public" || (r.addresses ?? []).some((a) => normalHost(a) === target.address))
  )
  if (reserved)
    return deny(
      `${at} port ${destination.port} is ${reserved.what}, closed to sandboxed code unless QUASAR_SANDBOX_ALLOW_HOSTS names exactly ${where}`
    )
  if (target.range === "public") return ALLOWED
  if (rules.allow.some((entry) => entry.port === undefined && names(entry))) return ALLOWED
  return deny(
    `${at} is ${RANGE_WORDS[target.range]} (${target.cidr}), closed to sandboxed code unless QUASAR_SANDBOX_ALLOW_HOSTS names it`
  )
}
