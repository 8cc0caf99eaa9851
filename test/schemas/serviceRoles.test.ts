/**
 * Each service runs as a PostgreSQL role that owns its own schema and nothing else (beside the
 * usage of `public` every role has, where extensions live), the three of them on one database.
 * The main paths all work — a provider uploaded and activated, its assets listed, a mapping
 * saved, a subscription backfilled, bars queried by symbol and by common symbol, a backtest run
 * on them — so no service reads or writes another's tables; a direct attempt to is refused.
 */
import { FetchHttpClient, HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { describe, expect, layer } from "@effect/vitest"
import { DataHubApi, ProviderName, RegistryApi } from "@quasar/domain"
import { DatabaseUrl } from "@quasar/server"
import { TestDatabase, TestService } from "@quasar/server/testing"
import { Context, DateTime, type Duration, Effect, Layer, Redacted, Schedule } from "effect"
import Pg from "pg"
import { inject } from "vitest"
import { subscribeSynthetic, untilBackfilled } from "../../apps/datahub/test/collect/support"
import { syntheticSource } from "../../apps/datahub/test/sandbox/fixtures/synthetic"
import { RegistryLive } from "../../apps/registry/src/App"
import { appLayer as traderApp } from "../../apps/trader/src/App"
import { BacktestRunner } from "../../apps/trader/src/backtest/BacktestRunner"
import { SymbolMappings } from "../../apps/trader/src/strategies/SymbolMappings"
import * as InProcessExecutor from "../../apps/trader/src/testing/InProcessExecutor"
import * as StrategyModules from "../../apps/trader/src/testing/StrategyModules"
import { smaCross } from "../../apps/trader/test/engine/smaCross"
import { ready, traderClient } from "../../apps/trader/test/service/support"
import { freePort, startDataHub } from "../support/registryLink"

const MINUTE = 60_000
const ROLES = { registry: "quasar_registry", datahub: "quasar_datahub", trader: "quasar_trader" } as const
type Service = keyof typeof ROLES

const synthetic = ProviderName.make("synthetic")
const strategy = StrategyModules.strategyModule("sma-syn", 1, {
  ...smaCross,
  name: "sma-syn",
  universe: { timeframe: "1m", symbols: ["SYN/USD"] }
})

/** Runs `statements` in order on one connection to `url`; yields the last one's rows. */
const run = (url: string, statements: ReadonlyArray<string>) =>
  Effect.tryPromise(async () => {
    const client = new Pg.Client({ connectionString: url })
    await client.connect()
    try {
      let rows: Array<Record<string, unknown>> = []
      for (const s of statements) rows = (await client.query(s)).rows
      return rows
    } finally {
      await client.end()
    }
  })

const asRole = (url: string, service: Service) => {
  const u = new URL(url)
  u.username = ROLES[service]
  u.password = ""
  return u.toString()
}

/**
 * Roles are the server's, shared by every test database: created once, never dropped (they own
 * nothing once a test database is gone). Each schema is created by the administrator and owned
 * by its service's role, which has no CREATE on the database and none on `public`.
 */
const provision = (url: string) =>
  run(url, [
    ...Object.values(ROLES).map(
      (role) => `DO $$ BEGIN CREATE ROLE ${role} LOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$`
    ),
    "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
    // Extensions are the administrator's: a service role may create neither.
    `DO $$ BEGIN
       IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
         CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
       END IF;
       IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb')
          AND current_setting('shared_preload_libraries') ~ '(^|,)\\s*timescaledb\\s*(,|$)' THEN
         CREATE EXTENSION IF NOT EXISTS timescaledb SCHEMA public;
       END IF;
     END $$`,
    ...Object.entries(ROLES).map(([schema, role]) => `CREATE SCHEMA ${schema} AUTHORIZATION ${role}`)
  ])

class Databases extends Context.Tag("test/Databases")<
  Databases,
  { readonly admin: string; readonly registryUrl: string; readonly datahubUrl: string }
>() {}

const services = Layer.unwrapScoped(
  Effect.gen(function* () {
    const admin = yield* TestDatabase.fresh
    yield* provision(admin)
    const as = (service: Service) => DatabaseUrl.layer(Redacted.make(asRole(admin, service)))
    const port = yield* freePort
    const datahubUrl = `http://127.0.0.1:${port}`
    const registryUrl = yield* TestService.start(
      RegistryLive,
      as("registry"),
      TestService.testConfig({ datahubUrl })
    )
    yield* startDataHub(as("datahub"), { port, registryUrl })
    const datahub = yield* HttpApiClient.make(DataHubApi, { baseUrl: datahubUrl })
    yield* datahub.health
      .health()
      .pipe(Effect.retry(Schedule.spaced("200 millis").pipe(Schedule.upTo("60 seconds"))))
    return TestService.layer(
      traderApp({
        executor: InProcessExecutor.layer([strategy]),
        strategies: StrategyModules.catalog([strategy]),
        mappings: SymbolMappings.identity
      }),
      as("trader"),
      TestService.testConfig({ datahubUrl, registryUrl })
    ).pipe(Layer.provideMerge(Layer.succeed(Databases, { admin, registryUrl, datahubUrl })))
  }).pipe(Effect.provide(FetchHttpClient.layer))
)

const withToken = HttpClient.mapRequest(HttpClientRequest.bearerToken(TestService.ADMIN_TOKEN))
const within = (duration: Duration.DurationInput) =>
  Effect.retry(Schedule.spaced("250 millis").pipe(Schedule.upTo(duration)))

describe.skipIf(inject("adminDatabaseUrl") === "")("services as roles of their own", () => {
  layer(services, { timeout: 240_000, excludeTestServices: true })("one database, three roles", (it) => {
    it.effect(
      "every main path works with each service confined to its schema",
      () =>
        Effect.gen(function* () {
          yield* ready
          const { admin, registryUrl, datahubUrl } = yield* Databases
          // The test's own HttpClient is Trader's; the other two are reached by URL.
          const [registry, datahub] = yield* Effect.all([
            HttpApiClient.make(RegistryApi, { baseUrl: registryUrl, transformClient: withToken }),
            HttpApiClient.make(DataHubApi, { baseUrl: datahubUrl, transformClient: withToken })
          ]).pipe(Effect.provide(FetchHttpClient.layer))

          // Registry: an upload validated in DataHub's sandbox, activated, its assets listed.
          const uploaded = yield* registry.code.upload({
            path: { name: synthetic },
            payload: { kind: "provider", language: "javascript", source: syntheticSource }
          })
          expect(uploaded.version.status).toBe("valid")
          yield* registry.code.updateSettings({ path: { name: synthetic }, payload: { values: { seed: 7 } } })
          expect((yield* registry.code.activate({ path: { name: synthetic, version: 1 } })).status).toBe(
            "active"
          )
          const assets = yield* registry.assets
            .search({ urlParams: { provider: synthetic, limit: 50, offset: 0 } })
            .pipe(
              Effect.filterOrFail((page) => page.total > 0),
              within("30 seconds")
            )
          expect(assets.items.map((a) => a.symbol)).toContain("SYN/USD")
          yield* registry.mappings.upsert({
            payload: { commonSymbol: "SYN-COMMON", source: synthetic, symbol: "SYN/USD" }
          })

          // DataHub: a backfill of synthetic bars, queried by symbol and through the mapping.
          const from = Math.floor(Date.now() / MINUTE) * MINUTE - 240 * MINUTE
          const subscription = yield* subscribeSynthetic(datahub, from)
          yield* untilBackfilled(datahub, subscription.id, "90 seconds")
          const page = yield* datahub.bars.query({
            urlParams: { provider: synthetic, symbol: "SYN/USD", timeframe: "1m", limit: 1000 }
          })
          const stored = typeof page === "string" ? 0 : page.bars.length
          expect(stored).toBeGreaterThanOrEqual(200)
          const mapped = yield* datahub.bars
            .query({ urlParams: { commonSymbol: "SYN-COMMON", timeframe: "1m", limit: 10 } })
            .pipe(within("15 seconds"))
          expect(mapped).toMatchObject({ provider: "synthetic", symbol: "SYN/USD" })

          // Trader: a backtest on DataHub's bars, stored in Trader's schema.
          const trader = yield* traderClient()
          const accepted = yield* trader.backtests.submit({
            payload: {
              strategy: "sma-syn",
              provider: synthetic,
              from: DateTime.unsafeMake(from + 60 * MINUTE),
              to: DateTime.unsafeMake(from + 230 * MINUTE),
              params: { fast: 5, slow: 20 },
              initialCash: 10_000,
              fill: { feeBps: 10, slippageBps: 5 }
            }
          })
          yield* Effect.flatMap(BacktestRunner, (r) => r.settled(accepted.id))
          expect(yield* trader.backtests.get({ path: { id: accepted.id } })).toMatchObject({
            status: "completed",
            message: null
          })

          // Each role owns its schema's tables, and nothing of theirs is anywhere else.
          const owners = yield* run(admin, [
            `SELECT schemaname AS schema, array_agg(DISTINCT tableowner::text) AS owners FROM pg_tables
             WHERE schemaname NOT IN ('pg_catalog', 'information_schema') GROUP BY 1 ORDER BY 1`
          ])
          expect(owners).toEqual([
            { schema: "datahub", owners: [ROLES.datahub] },
            { schema: "registry", owners: [ROLES.registry] },
            { schema: "trader", owners: [ROLES.trader] }
          ])
          // And a direct attempt at another's tables is refused.
          const refused = (service: Service, statement: string) =>
            Effect.flip(run(asRole(admin, service), [statement])).pipe(
              Effect.map((e) => String(e.error instanceof Error ? e.error.message : e.error))
            )
          expect(yield* refused("datahub", "SELECT count(*) FROM registry.code_registry")).toMatch(
            /permission denied for schema registry/
          )
          expect(yield* refused("registry", "SELECT count(*) FROM datahub.historical_data")).toMatch(
            /permission denied for schema datahub/
          )
          expect(yield* refused("trader", "SELECT count(*) FROM datahub.historical_data")).toMatch(
            /permission denied for schema datahub/
          )
          expect(yield* refused("datahub", "CREATE TABLE public.stray (x int)")).toMatch(
            /permission denied for schema public/
          )
        }),
      200_000
    )
  })
})
