/**
 * `QUASAR_SANDBOX_ALLOW_HOSTS`: the hosts sandboxed code may reach although they are not public
 * (a comma list of `host` or `host:port`, IPv6 in brackets). Read once at start; a bad entry
 * stops the service with a line naming the variable and the entry.
 */
import { Config, ConfigError, Context, Either, Layer } from "effect"
import type { AllowEntry } from "./EgressPolicy"
import { normalHost } from "./EgressPolicy"

const HOST_NAME =
  /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,62}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62}[a-z0-9_])?)*\.?$/i

const entryOf = (text: string): Either.Either<AllowEntry, string> => {
  const bracketed = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(text)
  const plain = /^([^:[\]\s]+)(?::(\d+))?$/.exec(text)
  const [, host, port] = bracketed ?? plain ?? []
  if (
    host === undefined ||
    (!bracketed && !HOST_NAME.test(host)) ||
    (bracketed && !normalHost(host).includes(":"))
  )
    return Either.left(`"${text}" is not a host name, IP address or host:port`)
  if (port === undefined) return Either.right({ host: normalHost(host) })
  const n = Number(port)
  if (!Number.isInteger(n) || n < 1 || n > 65535) return Either.left(`"${text}" has a port outside 1-65535`)
  return Either.right({ host: normalHost(host), port: n })
}

/** The entries of the comma list, or what is wrong with the first bad one. */
export const parseAllowHosts = (text: string): Either.Either<ReadonlyArray<AllowEntry>, string> =>
  Either.all(
    text
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "")
      .map(entryOf)
  )

/** The operator's allowlist (tests give the addresses of their fakes here). */
export class SandboxAllowHosts extends Context.Tag("@quasar/sandbox/SandboxAllowHosts")<
  SandboxAllowHosts,
  ReadonlyArray<AllowEntry>
>() {
  static readonly config: Config.Config<ReadonlyArray<AllowEntry>> = Config.string().pipe(
    Config.withDefault(""),
    Config.mapOrFail((text) =>
      Either.mapLeft(parseAllowHosts(text), (problem) =>
        // Re-raised by `Config.nested` under the variable's name.
        ConfigError.InvalidData(
          [],
          `${problem}; expected a comma list such as api.example.com,127.0.0.1:9000,[::1]:9000`
        )
      )
    ),
    Config.nested("QUASAR_SANDBOX_ALLOW_HOSTS")
  )

  static readonly fromEnv = Layer.effect(SandboxAllowHosts, SandboxAllowHosts.config)

  static readonly layer = (entries: ReadonlyArray<AllowEntry>) => Layer.succeed(SandboxAllowHosts, entries)
}
