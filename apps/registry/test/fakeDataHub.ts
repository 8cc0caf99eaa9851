/**
 * A fake DataHub for Registry tests: a real HTTP server built from the same group definitions
 * as `DataHubApi`, answering `health`, `sandbox` and `codeUsage` with canned data on a random port, behind a TCP
 * proxy a test can cut to play "DataHub is down". Also the Registry's test environment wired to
 * it, and helpers that seed `code_registry` rows directly (the code API is not needed for that).
 */
import { createServer } from "node:http"
import {
  HttpApi,
  HttpApiBuilder,
  HttpApiClient,
  HttpClient,
  HttpClientRequest,
  HttpServer
} from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import {
  type CodeKind,
  type CodeStatus,
  CodeUsageGroup,
  HealthGroup,
  HealthReport,
  NotFound,
  type ProviderAsset,
  RegistryApi,
  SandboxGroup
} from "@quasar/domain"
import { AuthThrottle, BodyPolicy, RouteTable, ServiceAuthLive, ServiceConfig } from "@quasar/server"
import { TcpProxy, TestDatabase, TestService } from "@quasar/server/testing"
import { Context, DateTime, Effect, Layer } from "effect"
import { RegistryLive } from "../src/App"

export interface Listing {
  readonly assets: ReadonlyArray<ProviderAsset>
  readonly rejected: number
}

/** What each provider's `listAssets` answers; a provider without an entry is unknown (404). */
class Listings extends Context.Tag("test/FakeDataHub/Listings")<Listings, Map<string, Listing>>() {}

/** How many subscriptions the fake says use each provider (none unless set). */
class Usage extends Context.Tag("test/FakeDataHub/Usage")<Usage, Map<string, number>>() {}

export class FakeDataHub extends Context.Tag("test/FakeDataHub")<
  FakeDataHub,
  {
    /** Where the Registry finds the fake (through the proxy). */
    readonly url: string
    readonly setListing: (
      provider: string,
      assets: ReadonlyArray<ProviderAsset>,
      rejected?: number
    ) => Effect.Effect<void>
    readonly setSubscriptions: (provider: string, count: number) => Effect.Effect<void>
    /** Refuses connections until `restore`, as a stopped DataHub would. */
    readonly cut: Effect.Effect<void>
    readonly restore: Effect.Effect<void>
  }
>() {}

/**
 * The part of DataHub's API the Registry calls, from the very group definitions DataHubApi is
 * made of; the other groups (subscriptions, bars) are DataHub's business and stay out of the fake.
 */
const FakeApi = HttpApi.make("datahub").add(HealthGroup).add(SandboxGroup).add(CodeUsageGroup)

const HealthLive = HttpApiBuilder.group(FakeApi, "health", (handlers) =>
  handlers
    .handle("health", () =>
      Effect.succeed(
        new HealthReport({
          service: "datahub",
          status: "ok",
          database: { status: "up", backend: "postgresql", embedded: false, latencyMs: 1, error: null },
          migrations: { version: 4, pending: 0 },
          uptimeSeconds: 1
        })
      )
    )
    .handle("metrics", () => Effect.succeed(""))
)

const SandboxLive = HttpApiBuilder.group(FakeApi, "sandbox", (handlers) =>
  Effect.map(Listings, (listings) =>
    handlers
      .handle("validate", () =>
        Effect.map(DateTime.now, (checkedAt) => ({
          // The fake runs no code, so it never vouches for any: every upload comes back invalid.
          report: {
            ok: false,
            issues: [{ severity: "error" as const, message: "the fake DataHub does not run code" }],
            durationMs: 1,
            checkedAt
          },
          manifest: null
        }))
      )
      .handle("listAssets", ({ path }) => {
        const listing = listings.get(path.name)
        return listing
          ? Effect.succeed(listing)
          : Effect.fail(new NotFound({ message: `the fake DataHub has no listing for ${path.name}` }))
      })
  )
)

const CodeUsageLive = HttpApiBuilder.group(FakeApi, "codeUsage", (handlers) =>
  Effect.map(Usage, (usage) =>
    handlers.handle("usage", ({ path }) =>
      Effect.succeed({ name: path.name, subscriptions: usage.get(path.name) ?? 0 })
    )
  )
)

const serverLayer = (listings: Map<string, Listing>, usage: Map<string, number>) =>
  HttpApiBuilder.serve().pipe(
    Layer.provide(HttpApiBuilder.api(FakeApi).pipe(Layer.provide([HealthLive, SandboxLive, CodeUsageLive]))),
    Layer.provide(Layer.succeed(Listings, listings)),
    Layer.provide(Layer.succeed(Usage, usage)),
    // The real guards: the fake refuses a Registry that does not send the service credential.
    Layer.provide([ServiceAuthLive, BodyPolicy.layer(RouteTable.make(FakeApi))]),
    Layer.provide(AuthThrottle.layer),
    Layer.provide(ServiceConfig.layer(TestService.testConfig())),
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))
  )

export const layer = Layer.scoped(
  FakeDataHub,
  Effect.gen(function* () {
    const listings = new Map<string, Listing>()
    const usage = new Map<string, number>()
    // Built apart (a fresh memo map): HttpApiBuilder's router is a global layer, which the
    // Registry's own server would otherwise share, registering both APIs' routes twice.
    const server = Context.get(yield* Layer.build(serverLayer(listings, usage)), HttpServer.HttpServer)
    const port = server.address._tag === "TcpAddress" ? server.address.port : 0
    const proxy = yield* TcpProxy.make("127.0.0.1", port)
    return {
      url: `http://127.0.0.1:${proxy.port}`,
      setListing: (provider, assets, rejected = 0) =>
        Effect.sync(() => void listings.set(provider, { assets, rejected })),
      setSubscriptions: (provider, count) => Effect.sync(() => void usage.set(provider, count)),
      cut: proxy.cut,
      restore: proxy.restore
    }
  })
)

/** The Registry on a fresh database, configured to call the fake DataHub; the fake is exposed too. */
export const registryLayer = Layer.unwrapEffect(
  Effect.map(FakeDataHub, (fake) =>
    TestService.layer(RegistryLive, TestDatabase.layer, TestService.testConfig({ datahubUrl: fake.url }))
  )
).pipe(Layer.provideMerge(layer))

/** The derived Registry client, with a bearer token unless `token` is null. */
export const registryClient = (token: string | null = TestService.ADMIN_TOKEN) =>
  HttpApiClient.make(
    RegistryApi,
    token === null ? {} : { transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken(token)) }
  )

/** A `code_registry` row, as an upload (and, for `active`, an activation) would leave it. */
export const seedCode = (
  name: string,
  options: {
    readonly kind?: CodeKind
    readonly status?: CodeStatus
    readonly capabilities?: ReadonlyArray<string>
  } = {}
) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const source = `export default { name: "${name}", n: ${Math.random()} }`
    const sha = Array.from(crypto.getRandomValues(new Uint8Array(32)), (b) =>
      b.toString(16).padStart(2, "0")
    ).join("")
    const manifest =
      options.capabilities === undefined
        ? null
        : JSON.stringify({
            name,
            displayName: name,
            version: "1.0.0",
            kind: options.kind ?? "provider",
            capabilities: options.capabilities,
            timeframes: [],
            settings: []
          })
    yield* sql`
      INSERT INTO registry.code_registry (name, kind, version, sha256, source, size, status, manifest)
      SELECT ${name}, ${options.kind ?? "provider"}, coalesce(max(version), 0) + 1, ${sha}, ${source},
             ${source.length}, ${options.status ?? "active"}, ${manifest}::jsonb
      FROM registry.code_registry WHERE name = ${name}`
  })
