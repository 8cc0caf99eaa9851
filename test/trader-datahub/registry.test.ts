/**
 * Trader with the Registry and DataHub it runs against, all three in this test on one fresh
 * database: the README's strategy is uploaded to the Registry (type-checked and validated in
 * DataHub's sandbox) and activated; Trader finds it, its manifest and its source through the
 * Registry's derived client, maps its universe through the Registry's mappings, and reads 1h bars
 * from DataHub. The executor is the in-process one, holding the same strategy as an object.
 */
import { FetchHttpClient, HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { DataHubApi, ProviderName, RegistryApi } from "@quasar/domain"
import { DatabaseUrl } from "@quasar/server"
import { TestDatabase, TestService } from "@quasar/server/testing"
import { Context, DateTime, Effect, Layer, Redacted, Schedule } from "effect"
import { RegistryLive } from "../../apps/registry/src/App"
import { appLayer as traderApp } from "../../apps/trader/src/App"
import { BacktestRunner } from "../../apps/trader/src/backtest/BacktestRunner"
import * as InProcessExecutor from "../../apps/trader/src/testing/InProcessExecutor"
import { strategyModule } from "../../apps/trader/src/testing/StrategyModules"
import { walk } from "../../apps/trader/test/engine/fixtures"
import { smaCross } from "../../apps/trader/test/engine/smaCross"
import { ready, traderClient } from "../../apps/trader/test/service/support"
import { readmeStrategy } from "../fixtures/strategyModules"
import { freePort, startDataHub } from "../support/registryLink"

const HOUR = 3_600_000
const T0 = Date.UTC(2024, 0, 1)
const BARS = 600

/** The README's example, as the object the in-process executor runs for its source's sha256. */
const readme = strategyModule(
  "sma-cross",
  1,
  { ...smaCross, universe: { timeframe: "1h", symbols: ["BTC/USD"] } },
  {
    source: readmeStrategy()
  }
)

class RegistryUrl extends Context.Tag("test/RegistryUrl")<RegistryUrl, { readonly url: string }>() {}

const services = Layer.unwrapScoped(
  Effect.gen(function* () {
    const url = yield* TestDatabase.fresh
    const database = DatabaseUrl.layer(Redacted.make(url))
    // The Registry first, DataHub after it (stopped first): see registryLink.
    const port = yield* freePort
    const datahubUrl = `http://127.0.0.1:${port}`
    const registryUrl = yield* TestService.start(
      RegistryLive,
      database,
      TestService.testConfig({ datahubUrl })
    )
    yield* startDataHub(database, { port, registryUrl })
    const datahub = yield* HttpApiClient.make(DataHubApi, { baseUrl: datahubUrl })
    yield* datahub.health
      .health()
      .pipe(Effect.retry(Schedule.spaced("200 millis").pipe(Schedule.upTo("60 seconds"))))
    return TestService.layer(
      traderApp({ executor: InProcessExecutor.layer([readme]) }),
      database,
      TestService.testConfig({ datahubUrl, registryUrl })
    ).pipe(Layer.provideMerge(Layer.succeed(RegistryUrl, { url: registryUrl })))
  }).pipe(Effect.provide(FetchHttpClient.layer))
)

layer(services, { timeout: 180_000, excludeTestServices: true })(
  "Trader with the Registry and DataHub",
  (it) => {
    it.effect("runs the README's strategy uploaded to the Registry, on DataHub's bars", () =>
      Effect.gen(function* () {
        yield* ready
        const { url: registryUrl } = yield* RegistryUrl
        const api = yield* HttpApiClient.make(RegistryApi, {
          baseUrl: registryUrl,
          transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken(TestService.ADMIN_TOKEN))
        }).pipe(Effect.provide(FetchHttpClient.layer))
        const name = ProviderName.make("sma-cross")
        const uploaded = yield* api.code.upload({
          path: { name },
          payload: { kind: "strategy", language: "typescript", source: readme.source }
        })
        expect(uploaded.version.status).toBe("valid")
        yield* api.code.activate({ path: { name, version: 1 } })

        const sql = yield* SqlClient.SqlClient
        const bars = walk(BARS, 3)
        yield* sql`
        INSERT INTO datahub.historical_data (provider, symbol, timeframe, ts, open, high, low, close, volume)
        SELECT 'kraken', 'BTC/USD', '1h', to_timestamp((${T0}::float8 + i * ${HOUR}) / 1000.0), o, h, l, c, v
        FROM unnest(${Array.from(bars.open)}::float8[], ${Array.from(bars.high)}::float8[],
                    ${Array.from(bars.low)}::float8[], ${Array.from(bars.close)}::float8[],
                    ${Array.from(bars.volume)}::float8[]) WITH ORDINALITY AS b(o, h, l, c, v, i)`

        const trader = yield* traderClient()
        const accepted = yield* trader.backtests.submit({
          payload: {
            strategy: "sma-cross",
            provider: ProviderName.make("kraken"),
            from: DateTime.unsafeMake(T0 + 50 * HOUR),
            to: DateTime.unsafeMake(T0 + (BARS + 1) * HOUR),
            params: { fast: 5, slow: 12 },
            initialCash: 10_000,
            fill: { feeBps: 10, slippageBps: 5 }
          }
        })
        yield* Effect.flatMap(BacktestRunner, (r) => r.settled(accepted.id))
        const detail = yield* trader.backtests.get({ path: { id: accepted.id } })
        expect(detail).toMatchObject({ status: "completed", version: 1, message: null })
        expect(detail.inputs).toMatchObject({
          strategyVersion: "1.0.0",
          codeSha256: uploaded.version.sha256,
          params: { fast: 5, slow: 12, fraction: 0.95 },
          timeframe: "1h",
          universe: ["BTC/USD"]
        })
        expect(detail.result?.fills.length).toBeGreaterThan(0)

        // Params outside the manifest's bounds, as the Registry recorded them, are a 400.
        const refused = yield* Effect.flip(
          trader.backtests.submit({
            payload: {
              strategy: "sma-cross",
              provider: ProviderName.make("kraken"),
              from: DateTime.unsafeMake(T0 + 50 * HOUR),
              to: DateTime.unsafeMake(T0 + BARS * HOUR),
              params: { slow: 1 },
              initialCash: 10_000,
              fill: { feeBps: 10, slippageBps: 5 }
            }
          })
        )
        expect(refused.message).toContain("slow must be at least 3")
        // A version the Registry does not have is a 404.
        const missing = yield* Effect.flip(
          trader.backtests.submit({
            payload: {
              strategy: "sma-cross",
              version: 7,
              provider: ProviderName.make("kraken"),
              from: DateTime.unsafeMake(T0 + 50 * HOUR),
              to: DateTime.unsafeMake(T0 + BARS * HOUR),
              params: {},
              initialCash: 10_000,
              fill: { feeBps: 10, slippageBps: 5 }
            }
          })
        )
        expect(missing._tag).toBe("NotFound")
      })
    )
  }
)
