/**
 * What the launcher reads from the environment, with the same defaults and the same one-line
 * errors as the services (REGISTRY_PORT, DATAHUB_PORT, TRADER_PORT, QUASAR_DATA_DIR, the
 * tokens, ...), plus
 * WEB_PORT for the UI/proxy. The services re-read the variables they care about.
 */
import { isAbsolute, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import { describeConfigError, MIN_TOKEN_LENGTH } from "@quasar/server"
import { Config, ConfigProvider, Effect, Option } from "effect"
import { LauncherError } from "./LauncherError"

export interface LauncherConfig {
  /** The repository root: children run from here so `apps/<svc>/src/main.ts` and `tsx` resolve. */
  readonly repoRoot: string
  readonly watch: boolean
  /** The address every server binds; the proxy and the health checks dial loopback instead. */
  readonly host: string
  readonly webPort: number
  readonly registryPort: number
  readonly datahubPort: number
  readonly traderPort: number
  /** Absolute, so that both children (and the launcher) agree whatever their cwd. */
  readonly dataDir: string
  readonly embeddedDbPort: number
  /** None (DATABASE_URL unset or blank): the launcher hosts the embedded database. */
  readonly databaseUrl: Option.Option<string>
  readonly adminToken: Option.Option<string>
  readonly serviceToken: Option.Option<string>
  readonly secretKey: Option.Option<string>
  /** QUASAR_CORS_ORIGINS as given (the services parse it); `--watch` adds the Vite dev server's. */
  readonly corsOrigins: string
  /** The built UI served on the web port (QUASAR_WEB_DIST, default `apps/web/dist`). */
  readonly webDist: string
}

export const repoRoot = resolve(fileURLToPath(new URL("../..", import.meta.url)))

const nonBlank = (name: string) =>
  Config.string(name).pipe(Config.option, Config.map(Option.filter((s) => s.trim() !== "")))

const token = (name: string) =>
  nonBlank(name).pipe(
    Config.validate({
      message: `must be at least ${MIN_TOKEN_LENGTH} characters (e.g. openssl rand -base64 32)`,
      validation: (t) => !Option.exists(t, (s) => s.trim().length < MIN_TOKEN_LENGTH)
    })
  )

const launcherConfig = (watch: boolean) =>
  Config.all({
    host: Config.string("HOST").pipe(Config.withDefault("0.0.0.0")),
    webPort: Config.port("WEB_PORT").pipe(Config.withDefault(3000)),
    registryPort: Config.port("REGISTRY_PORT").pipe(Config.withDefault(8080)),
    datahubPort: Config.port("DATAHUB_PORT").pipe(Config.withDefault(8081)),
    traderPort: Config.port("TRADER_PORT").pipe(Config.withDefault(8082)),
    dataDir: nonBlank("QUASAR_DATA_DIR"),
    embeddedDbPort: Config.port("QUASAR_EMBEDDED_DB_PORT").pipe(Config.withDefault(54329)),
    databaseUrl: nonBlank("DATABASE_URL"),
    adminToken: token("QUASAR_ADMIN_TOKEN"),
    serviceToken: token("QUASAR_SERVICE_TOKEN"),
    secretKey: nonBlank("QUASAR_SECRET_KEY"),
    corsOrigins: Config.string("QUASAR_CORS_ORIGINS").pipe(Config.withDefault("")),
    webDist: nonBlank("QUASAR_WEB_DIST")
  }).pipe(
    Config.map(
      ({ dataDir, webDist, ...rest }): LauncherConfig => ({
        ...rest,
        repoRoot,
        watch,
        webDist: Option.match(webDist, {
          onNone: () => resolve(repoRoot, "apps", "web", "dist"),
          onSome: (dir) => resolve(process.cwd(), dir)
        }),
        // The default lives next to the code whatever the cwd; an explicit value is the user's path.
        dataDir: Option.match(dataDir, {
          onNone: () => resolve(repoRoot, ".quasar"),
          onSome: (dir) => (isAbsolute(dir) ? dir : resolve(process.cwd(), dir))
        })
      })
    )
  )

export const load = (argv: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const unknown = argv.filter((a) => a !== "--watch")
    if (unknown.length > 0) {
      return yield* new LauncherError({
        message: `unknown argument ${unknown.join(" ")}; usage: start.ts [--watch]`
      })
    }
    return yield* launcherConfig(argv.includes("--watch")).pipe(
      Effect.withConfigProvider(ConfigProvider.fromEnv()),
      Effect.mapError(
        (e) => new LauncherError({ message: `invalid configuration: ${describeConfigError(e)}` })
      )
    )
  })

/** Where `npm run dev -w apps/web` serves the UI (apps/web/vite.config.ts: port 3000). */
export const VITE_DEV_ORIGINS = ["http://localhost:3000", "http://127.0.0.1:3000"] as const

/** QUASAR_CORS_ORIGINS for the services: the configured ones, plus the Vite dev server's when watching. */
export const corsOriginsFor = (config: Pick<LauncherConfig, "corsOrigins" | "watch">): string =>
  [...config.corsOrigins.split(","), ...(config.watch ? VITE_DEV_ORIGINS : [])]
    .map((o) => o.trim())
    .filter((o, i, all) => o !== "" && all.indexOf(o) === i)
    .join(",")

/** The address to dial for a server bound to `host`: loopback when it listens everywhere. */
export const dialHost = (host: string): string =>
  host === "0.0.0.0" || host === "::" || host === "" ? "127.0.0.1" : host

/** The host to show in printed URLs. */
export const displayHost = (host: string): string => (dialHost(host) === "127.0.0.1" ? "localhost" : host)
