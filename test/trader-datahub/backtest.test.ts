/**
 * Trader reading its bars from a real DataHub over HTTP: both services in this test on one fresh
 * database, synthetic bars stored in DataHub's table, a backtest through Trader's API whose
 * result equals the engine's on the same bars.
 */
import { FetchHttpClient, HttpApiClient } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { DataHubApi } from "@quasar/domain"
import { DatabaseUrl } from "@quasar/server"
import { TestDatabase, TestService } from "@quasar/server/testing"
import { DateTime, Effect, Layer, Redacted, Schedule } from "effect"
import { appLayer as dataHubApp } from "../../apps/datahub/src/App"
import { MemoryCatalog } from "../../apps/datahub/src/testing/MemoryCatalog"
import { appLayer as traderApp } from "../../apps/trader/src/App"
import { BacktestRunner } from "../../apps/trader/src/backtest/BacktestRunner"
import { runBacktest } from "../../apps/trader/src/engine/runBacktest"
import { SymbolMappings } from "../../apps/trader/src/strategies/SymbolMappings"
import * as InProcessExecutor from "../../apps/trader/src/testing/InProcessExecutor"
import * as StrategyModules from "../../apps/trader/src/testing/StrategyModules"
import { smaCross } from "../../apps/trader/test/engine/smaCross"
import {
  btcBars,
  kraken,
  MINUTE,
  ready,
  request,
  smaModule,
  T0,
  traderClient
} from "../../apps/trader/test/service/support"

const BARS = 2_000

const services = Layer.unwrapScoped(
  Effect.gen(function* () {
    const url = yield* TestDatabase.fresh
    const database = DatabaseUrl.layer(Redacted.make(url))
    // Trader reads bars only: DataHub needs no Registry here.
    const datahubUrl = yield* TestService.start(
      dataHubApp().pipe(Layer.provide(MemoryCatalog.layer)),
      database
    )
    // DataHub's tables exist once its health says so.
    const datahub = yield* HttpApiClient.make(DataHubApi, { baseUrl: datahubUrl }).pipe(
      Effect.provide(FetchHttpClient.layer)
    )
    yield* datahub.health
      .health()
      .pipe(
        Effect.retry(Schedule.spaced("200 millis").pipe(Schedule.upTo("60 seconds"))),
        Effect.provide(FetchHttpClient.layer)
      )
    return TestService.layer(
      traderApp({
        executor: InProcessExecutor.layer([smaModule]),
        strategies: StrategyModules.catalog([smaModule]),
        mappings: SymbolMappings.identity
      }),
      database,
      TestService.testConfig({ datahubUrl })
    )
  })
)

layer(services, { timeout: 120_000, excludeTestServices: true })("Trader on DataHub's bars", (it) => {
  it.effect("a backtest reads its bars from DataHub over HTTP and gives the engine's result", () =>
    Effect.gen(function* () {
      yield* ready
      const sql = yield* SqlClient.SqlClient
      const bars = btcBars(BARS)
      yield* sql`
        INSERT INTO datahub.historical_data (provider, symbol, timeframe, ts, open, high, low, close, volume)
        SELECT 'kraken', 'BTC/USD', '1m', to_timestamp(t / 1000.0), o, h, l, c, v
        FROM unnest(${Array.from(bars.ts)}::float8[], ${Array.from(bars.open)}::float8[],
                    ${Array.from(bars.high)}::float8[], ${Array.from(bars.low)}::float8[],
                    ${Array.from(bars.close)}::float8[], ${Array.from(bars.volume)}::float8[])
          AS b(t, o, h, l, c, v)`

      const api = yield* traderClient()
      const accepted = yield* api.backtests.submit({ payload: request() })
      yield* Effect.flatMap(BacktestRunner, (r) => r.settled(accepted.id))
      const detail = yield* api.backtests.get({ path: { id: accepted.id } })
      expect(detail.status).toBe("completed")

      const start = 100 - smaCross.warmup
      const direct = runBacktest({
        strategy: smaCross,
        codeSha256: smaModule.sha256,
        params: { fast: 5, slow: 20 },
        provider: kraken,
        from: T0 + 100 * MINUTE,
        to: T0 + BARS * MINUTE,
        initialCash: 10_000,
        fill: { feeBps: 10, slippageBps: 5 },
        bars: new Map([
          [
            "BTC/USD",
            {
              ts: bars.ts.slice(start),
              open: bars.open.slice(start),
              high: bars.high.slice(start),
              low: bars.low.slice(start),
              close: bars.close.slice(start),
              volume: bars.volume.slice(start)
            }
          ]
        ])
      })
      expect(direct.ok).toBe(true)
      if (!direct.ok) return
      expect(direct.result.fills.length).toBeGreaterThan(0)
      expect(detail.result).toEqual(direct.result)

      // A range DataHub has no bars for is the caller's 400, not a run.
      const empty = yield* Effect.flip(
        api.backtests.submit({
          payload: request({
            from: DateTime.unsafeMake(Date.UTC(2025, 0, 1)),
            to: DateTime.unsafeMake(Date.UTC(2025, 0, 2))
          })
        })
      )
      expect(empty).toMatchObject({ _tag: "InvalidRequest", message: expect.stringContaining("no 1m bars") })
    })
  )
})
