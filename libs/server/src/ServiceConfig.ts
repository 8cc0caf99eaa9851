/**
 * Everything a service reads from the environment, read once at the edge. A bad value stops the
 * service with one line naming the variable (see `node/runService.ts`).
 */
import { Config, type ConfigError, Context, Layer, LogLevel, Option, Redacted } from "effect"

export interface ServiceConfigValues {
  readonly port: number
  readonly host: string
  readonly logLevel: LogLevel.LogLevel
  /** Absent (or empty) → the embedded PGlite database. */
  readonly databaseUrl: Option.Option<Redacted.Redacted<string>>
  readonly poolSize: number
  /** Where the embedded database keeps its files. */
  readonly dataDir: string
  /** Loopback port of the embedded database, shared by both services. */
  readonly embeddedDbPort: number
  /** Bearer token every write must carry; absent → writes are refused (401) with a hint. */
  readonly adminToken: Option.Option<Redacted.Redacted<string>>
  /** Key that encrypts provider secrets at rest (AES-256-GCM); absent → secrets cannot be stored. */
  readonly secretKey: Option.Option<Redacted.Redacted<string>>
  /** Where each service finds the other. */
  readonly registryUrl: string
  readonly datahubUrl: string
  /** OTLP/HTTP collector base URL; absent → traces only in the JSON logs. */
  readonly otlpEndpoint: Option.Option<string>
}

/** The configuration the running service was started with. */
export class ServiceConfig extends Context.Tag("@quasar/server/ServiceConfig")<
  ServiceConfig,
  ServiceConfigValues
>() {
  static readonly layer = (values: ServiceConfigValues) => Layer.succeed(ServiceConfig, values)
}

const optionalSecret = (name: string) =>
  Config.string(name).pipe(
    Config.option,
    Config.map((value) =>
      value.pipe(
        Option.filter((s) => s.trim() !== ""),
        Option.map(Redacted.make)
      )
    )
  )

const httpUrl = (name: string, fallback: string) =>
  Config.string(name).pipe(
    Config.validate({
      message: "must be an http(s) URL such as http://127.0.0.1:8081",
      validation: (s) => /^https?:\/\/[^\s]+$/.test(s)
    }),
    Config.map((s) => s.replace(/\/+$/, "")),
    Config.withDefault(fallback)
  )

export const serviceConfig = (
  portVariable: string,
  defaultPort: number
): Config.Config<ServiceConfigValues> =>
  Config.all({
    port: Config.port(portVariable).pipe(Config.withDefault(defaultPort)),
    host: Config.string("HOST").pipe(Config.withDefault("0.0.0.0")),
    logLevel: Config.logLevel("LOG_LEVEL").pipe(Config.withDefault(LogLevel.Info)),
    // An empty DATABASE_URL counts as set for `pg`, which then silently uses localhost:5432.
    databaseUrl: optionalSecret("DATABASE_URL"),
    poolSize: Config.integer("DATABASE_POOL_SIZE").pipe(
      Config.validate({ message: "must be between 1 and 100", validation: (n) => n >= 1 && n <= 100 }),
      Config.withDefault(10)
    ),
    dataDir: Config.string("QUASAR_DATA_DIR").pipe(Config.withDefault(".quasar")),
    embeddedDbPort: Config.port("QUASAR_EMBEDDED_DB_PORT").pipe(Config.withDefault(54329)),
    adminToken: optionalSecret("QUASAR_ADMIN_TOKEN"),
    secretKey: optionalSecret("QUASAR_SECRET_KEY"),
    registryUrl: httpUrl("REGISTRY_URL", "http://127.0.0.1:8080"),
    datahubUrl: httpUrl("DATAHUB_URL", "http://127.0.0.1:8081"),
    otlpEndpoint: Config.string("OTEL_EXPORTER_OTLP_ENDPOINT").pipe(
      Config.option,
      Config.map(Option.filter((s) => s.trim() !== "")),
      Config.validate({
        message: "must be an http(s) URL such as http://otel-collector:4318",
        validation: (url) => Option.isNone(url) || /^https?:\/\/[^\s]+$/.test(url.value)
      })
    )
  })

/** One line for a config failure: which variable, and what is wrong with it. */
export const describeConfigError = (error: ConfigError.ConfigError): string => {
  const parts: Array<string> = []
  const walk = (e: ConfigError.ConfigError): void => {
    switch (e._op) {
      case "And":
      case "Or":
        walk(e.left)
        walk(e.right)
        return
      case "InvalidData":
      case "MissingData":
      case "SourceUnavailable":
      case "Unsupported":
        parts.push(`${e.path.join(".")}: ${e.message}`)
    }
  }
  walk(error)
  return parts.join("; ").replace(/\s+/g, " ")
}
