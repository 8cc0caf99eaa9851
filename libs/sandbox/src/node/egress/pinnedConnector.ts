/**
 * Every connection the host makes for sandboxed code: the host name is resolved once, each
 * address is put to the egress policy, and the socket goes to the first allowed address itself
 * (not to the name again), so a DNS answer that changes between the check and the connect
 * (rebinding) cannot move the connection. Redirects and reconnects open new connections, and
 * each goes through here again.
 */
import { lookup } from "node:dns/promises"
import { isIP } from "node:net"
import { Agent, buildConnector } from "undici"
import { decide, type EgressRules, unnamedHost } from "./EgressPolicy"

export interface ResolvedAddress {
  readonly address: string
  readonly family: number
}

/** Host name → addresses; the default asks the system resolver (which reads /etc/hosts). */
export type Resolver = (host: string) => Promise<ReadonlyArray<ResolvedAddress>>

export const systemResolver: Resolver = (host) => lookup(host, { all: true, verbatim: true })

/** The policy refused a destination; `reason` says which rule and how to open it. */
export class EgressDenied extends Error {
  override readonly name = "EgressDenied"
  constructor(readonly reason: string) {
    super(reason)
  }
}

const unbracketed = (host: string) => (host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host)

/** The address to connect to for `host:port`, or `EgressDenied` with the first refusal's reason. */
export const checkedAddress = async (
  rules: EgressRules,
  resolve: Resolver,
  host: string,
  port: number
): Promise<ResolvedAddress> => {
  const bare = unbracketed(host)
  // A host the code may not name is refused before its name is even resolved.
  const unnamed = unnamedHost(rules, bare)
  if (unnamed !== undefined) throw new EgressDenied(unnamed)
  const family = isIP(bare)
  const addresses = family !== 0 ? [{ address: bare, family }] : await resolve(bare)
  if (addresses.length === 0) throw new EgressDenied(`${host} did not resolve to any address`)
  let refusal: string | undefined
  for (const candidate of addresses) {
    const verdict = decide(rules, { host: bare, port, address: candidate.address })
    if (verdict.allowed) return candidate
    refusal ??= verdict.reason
  }
  throw new EgressDenied(refusal ?? `${host} is not reachable`)
}

export const MAX_SOCKET_MESSAGE_BYTES = 16 * 1024 * 1024

const DEFAULT_PORT: Readonly<Record<string, number>> = { "http:": 80, "https:": 443, "ws:": 80, "wss:": 443 }

/** An undici dispatcher whose every new connection is checked and pinned (fetch and WebSocket). */
export const egressAgent = (rules: EgressRules, resolve: Resolver): Agent => {
  const connect = buildConnector({ timeout: 10_000 })
  return new Agent({
    // One WebSocket message the host relays to a child: far above any market-data frame.
    webSocket: { maxPayloadSize: MAX_SOCKET_MESSAGE_BYTES },
    connect: (options, callback) => {
      const port = Number(options.port) || DEFAULT_PORT[options.protocol] || 80
      const name = unbracketed(options.hostname)
      checkedAddress(rules, resolve, name, port).then(
        ({ address }) =>
          connect(
            {
              ...options,
              hostname: address,
              // TLS still verifies the certificate against the name asked for.
              servername: options.servername ?? (isIP(name) === 0 ? name : undefined)
            },
            callback
          ),
        (e: unknown) => callback(e instanceof Error ? e : new Error(String(e)), null)
      )
    }
  })
}
