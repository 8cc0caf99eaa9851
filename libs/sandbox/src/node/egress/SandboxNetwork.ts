/**
 * What sandbox children get of the network: their isolation (namespaces, found at start) and
 * the egress through which the service (DataHub for providers, Trader for brokers) makes their
 * requests (the operator's allowlist, and the database's and services' ports reserved). Built
 * once per service.
 */
import { HttpServer } from "@effect/platform"
import { DatabaseUrl, ServiceConfig } from "@quasar/server"
import { Context, Effect, Layer, Option, Redacted } from "effect"
import { detectIsolation, logIsolation, type SandboxIsolation } from "../SandboxIsolation"
import { SandboxAllowHosts } from "./allowHosts"
import { type Egress, makeEgress } from "./Egress"
import type { ReservedPort } from "./EgressPolicy"

export interface SandboxNetworkService {
  readonly isolation: SandboxIsolation
  readonly egress: Egress
}

const portOf = (url: string, fallback: number): number | undefined => {
  try {
    const parsed = new URL(url)
    return parsed.port === "" ? fallback : Number(parsed.port)
  } catch {
    return undefined
  }
}

const hostOf = (url: string): string | undefined => {
  try {
    return new URL(url).hostname || undefined
  } catch {
    return undefined
  }
}

/** The ports of the services' own infrastructure, closed to sandboxed code on non-public addresses. */
const reservedPorts = (service: string) =>
  Effect.gen(function* () {
    const config = yield* ServiceConfig
    const database = yield* DatabaseUrl
    const server = yield* Effect.serviceOption(HttpServer.HttpServer)
    const dbUrl = Redacted.value(database.url)
    const dbHost = hostOf(dbUrl)
    const listening = Option.flatMap(server, (s) =>
      s.address._tag === "TcpAddress" ? Option.some(s.address.port) : Option.none()
    )
    const candidates: Array<ReservedPort | undefined> = [
      (() => {
        const port = portOf(dbUrl, 5432)
        return port === undefined
          ? undefined
          : { port, what: "the database", addresses: dbHost ? [dbHost] : [] }
      })(),
      { port: config.embeddedDbPort, what: "the embedded database" },
      { port: config.port, what: `${service}'s own port` },
      { port: Option.getOrElse(listening, () => 0), what: `${service}'s own port` },
      { port: portOf(config.datahubUrl, 80) ?? 0, what: "DataHub's port" },
      { port: portOf(config.registryUrl, 80) ?? 0, what: "the Registry's port" }
    ]
    return candidates.filter((r): r is ReservedPort => r !== undefined && r.port > 0)
  })

export class SandboxNetwork extends Context.Tag("@quasar/sandbox/SandboxNetwork")<
  SandboxNetwork,
  SandboxNetworkService
>() {
  /** The isolation as `/health` shows it. */
  static readonly healthReport = Effect.map(SandboxNetwork, ({ isolation: { network, pid, problem } }) => ({
    network,
    pid,
    ...(problem === undefined ? {} : { problem })
  }))

  /**
   * For `service` ("DataHub", "Trader": refusals name its port); needs ServiceConfig, DatabaseUrl
   * and SandboxAllowHosts; logs the isolation at start.
   */
  static readonly layer = (service: string) =>
    Layer.effect(
      SandboxNetwork,
      Effect.gen(function* () {
        const isolation = yield* detectIsolation
        yield* logIsolation(isolation)
        const allow = yield* SandboxAllowHosts
        const reserved = yield* reservedPorts(service)
        if (allow.length > 0)
          yield* Effect.logInfo("sandboxed code may also reach the hosts of QUASAR_SANDBOX_ALLOW_HOSTS").pipe(
            Effect.annotateLogs({ allow: allow.map((e) => (e.port ? `${e.host}:${e.port}` : e.host)) })
          )
        return { isolation, egress: makeEgress({ allow, reserved }) }
      })
    )
}
