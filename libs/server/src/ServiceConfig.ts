/**
 * Everything a service reads from the environment, read once at the edge. A bad value stops the
 * service with one line naming the variable (see `node/runService.ts`).
 */
import { Config, type ConfigError, Context, Effect, Layer, LogLevel, Option, Redacted } from "effect"

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
  /** Bearer token every write must carry (≥ 32 characters); absent → writes are refused (401). */
  readonly adminToken: Option.Option<Redacted.Redacted<string>>
  /**
   * The credential services send each other on `/internal/` routes (≥ 32 characters, not the
   * admin token); absent → this service refuses internal calls and cannot make them.
   */
  readonly serviceToken: Option.Option<Redacted.Redacted<string>>
  /** Browser origins allowed to call the API cross-origin (CORS); empty → none. */
  readonly corsOrigins: ReadonlyArray<string>
  /** Wrong credentials a client address may present within `windowSeconds` before it gets 429s. */
  readonly authThrottle: { readonly maxFailures: number; readonly windowSeconds: number }
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

/** Tokens shorter than this are refused at start-up: a bearer token must not be guessable. */
export const MIN_TOKEN_LENGTH = 32

// Each check sits under `Config.nested(name)`, so that its failure names the variable.
const token = (name: string) =>
  Config.string().pipe(
    Config.map((s) => s.trim()),
    Config.validate({
      message: `must be at least ${MIN_TOKEN_LENGTH} characters (e.g. openssl rand -base64 32)`,
      validation: (s) => s === "" || s.length >= MIN_TOKEN_LENGTH
    }),
    Config.option,
    Config.map((value) =>
      value.pipe(
        Option.filter((s) => s !== ""),
        Option.map(Redacted.make)
      )
    ),
    Config.nested(name)
  )

/** A browser origin: scheme, host and optional port, nothing after. */
const ORIGIN = /^https?:\/\/[^/\s?#]+$/

const origins = Config.string().pipe(
  Config.withDefault(""),
  Config.map((s) =>
    s
      .split(",")
      .map((o) => o.trim().replace(/\/+$/, ""))
      .filter((o) => o !== "")
  ),
  Config.validate({
    message: "must be comma-separated origins such as https://ui.example.com,http://localhost:3000",
    validation: (list) => list.every((o) => ORIGIN.test(o))
  }),
  Config.nested("QUASAR_CORS_ORIGINS")
)

/** Production throttling of wrong credentials: 10 per client address per minute. */
export const AUTH_THROTTLE = { maxFailures: 10, windowSeconds: 60 } as const

const httpUrl = (name: string, fallback: string) =>
  Config.string().pipe(
    Config.validate({
      message: "must be an http(s) URL such as http://127.0.0.1:8081",
      validation: (s) => /^https?:\/\/[^\s]+$/.test(s)
    }),
    Config.map((s) => s.replace(/\/+$/, "")),
    Config.withDefault(fallback),
    Config.nested(name)
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
    adminToken: token("QUASAR_ADMIN_TOKEN"),
    serviceToken: token("QUASAR_SERVICE_TOKEN"),
    corsOrigins: origins,
    authThrottle: Config.succeed(AUTH_THROTTLE),
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
  }).pipe(
    Config.validate({
      message:
        "QUASAR_SERVICE_TOKEN must differ from QUASAR_ADMIN_TOKEN: the admin token is for people, the service token for services",
      validation: ({ adminToken, serviceToken }) =>
        !Option.isSome(adminToken) ||
        !Option.isSome(serviceToken) ||
        Redacted.value(adminToken.value) !== Redacted.value(serviceToken.value)
    })
  )

/** Settings that let a service start but leave part of it off: said once, at start. */
export const startupWarnings = (config: ServiceConfigValues): Effect.Effect<void> =>
  Effect.all(
    [
      Option.isNone(config.serviceToken)
        ? Effect.logWarning(
            "QUASAR_SERVICE_TOKEN is not set: this service refuses every call on its /internal/ routes and cannot call the other service's; set the same token on every service"
          )
        : Effect.void,
      Option.isNone(config.adminToken)
        ? Effect.logWarning("QUASAR_ADMIN_TOKEN is not set: every write answers 401")
        : Effect.void
    ],
    { discard: true }
  )

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
        parts.push(e.path.length > 0 ? `${e.path.join(".")}: ${e.message}` : e.message)
    }
  }
  walk(error)
  return parts.join("; ").replace(/\s+/g, " ")
}
