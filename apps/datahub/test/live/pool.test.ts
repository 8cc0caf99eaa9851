import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { ProviderName, Timeframe } from "@quasar/domain"
import { barsBetween } from "@quasar/providers/synthetic"
import { TestService } from "@quasar/server/testing"
import { Duration, Effect, Layer, Logger, LogLevel } from "effect"
import { appLayer } from "../../src/App"
import { LiveConfig } from "../../src/live/LiveConfig"
import { ProviderPool } from "../../src/sandbox/ProviderPool"
import { MemoryCatalog } from "../../src/testing/MemoryCatalog"
import { syntheticSource } from "../sandbox/fixtures/synthetic"
import { validate } from "../sandbox/support"
import { adminClient, eventually, liveStatus, MINUTE, testLiveConfig } from "./support"

const testApp = TestService.layer(
  appLayer({
    callTimeout: Duration.seconds(2),
    cancelGrace: Duration.seconds(1),
    restartDelay: Duration.millis(100),
    heartbeat: Duration.seconds(3)
  })
    .pipe(Layer.provideMerge(MemoryCatalog.layer))
    .pipe(Layer.provide(Layer.succeed(LiveConfig, testLiveConfig({ staleAfter: Duration.seconds(5) }))))
).pipe(Layer.provide(Logger.minimumLogLevel(LogLevel.Error)))

const SEED = 7
const SYMBOLS = ["AAA/USD", "BBB/USD"]

/** The synthetic provider's code, active, as the Registry stores it, with its settings. */
const activateSynthetic = Effect.gen(function* () {
  const { report, manifest } = yield* validate("synthetic", syntheticSource)
  expect(report.issues).toEqual([])
  const catalog = yield* MemoryCatalog
  yield* catalog.putCode({
    name: "synthetic",
    version: 1,
    status: "active",
    manifest,
    source: syntheticSource
  })
  yield* catalog.putSettings("synthetic", { symbols: SYMBOLS.join(","), seed: SEED, updateMs: 200 })
})

const stored = (
  symbol: string,
  table: "datahub.historical_data" | "datahub.live_data" = "datahub.historical_data"
) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql<{ ts: number; open: number; high: number; low: number; close: number; volume: number }>`
      SELECT (extract(epoch FROM ts) * 1000)::float8 AS ts, open, high, low, close, volume FROM ${sql(table)}
      WHERE provider = 'synthetic' AND symbol = ${symbol} AND timeframe = '1m' ORDER BY ts`
  )

const truth = (symbol: string, from: number, to: number) =>
  barsBetween({ seed: SEED }, symbol, "1m", from, to).map(({ ts, open, high, low, close, volume }) => ({
    ts,
    open,
    high,
    low,
    close,
    volume
  }))

layer(testApp, { timeout: 90_000, excludeTestServices: true })(
  "live streams through the sandbox pool",
  (it) => {
    it.effect("fill the gap from the sandbox's history, stream forming bars, survive a killed sandbox", () =>
      Effect.gen(function* () {
        yield* activateSynthetic
        const sql = yield* SqlClient.SqlClient
        // A bar stored six minutes ago: the first connection must fill the five after it.
        const seeded = Timeframe.barOpen("1m", Date.now()) - 6 * MINUTE
        const [old] = truth("AAA/USD", seeded, seeded + MINUTE)
        yield* sql`INSERT INTO datahub.historical_data (provider, symbol, timeframe, ts, open, high, low, close, volume)
        VALUES ('synthetic', 'AAA/USD', '1m', to_timestamp(${seeded / 1000}), ${old!.open}, ${old!.high},
                ${old!.low}, ${old!.close}, ${old!.volume})`
        const api = yield* adminClient
        const subscribedAt = Date.now()
        for (const symbol of SYMBOLS)
          yield* api.subscriptions.create({
            payload: { provider: ProviderName.make("synthetic"), symbol, timeframes: ["1m"], mode: "live" }
          })
        const filledTo = Timeframe.barOpen("1m", subscribedAt)
        const filled = yield* eventually("the gap is filled", stored("AAA/USD"), (bars) =>
          bars.some((b) => b.ts >= filledTo - MINUTE)
        )
        expect(filled.filter((b) => b.ts < filledTo)).toEqual(truth("AAA/USD", seeded, filledTo))
        for (const symbol of SYMBOLS)
          yield* eventually(
            `forming bars of ${symbol}`,
            stored(symbol, "datahub.live_data"),
            (rows) => rows.length > 0
          )
        const status = yield* eventually(
          "connected",
          liveStatus,
          (s) => s.connections[0]?.state === "connected"
        )
        expect(status.connections).toHaveLength(1)
        expect([...status.connections[0]!.symbols].sort()).toEqual(SYMBOLS)
        expect(status.subscriptions.find((s) => s.symbol === "AAA/USD")?.lastClosedBarAt).not.toBeNull()

        // The provider's process dies: the pool restarts it, the connection reopens by itself.
        const pool = yield* ProviderPool
        const before = (yield* pool.sandboxes).find((s) => s.name === "synthetic")
        process.kill(before?.pid ?? 0, "SIGKILL")
        const after = yield* eventually(
          "reconnected after the crash",
          liveStatus,
          (s) => s.connections[0]!.reconnects >= 1 && s.connections[0]!.state === "connected"
        )
        expect(after.connections[0]!.lastError).toContain("SIGKILL")
        const restarted = (yield* pool.sandboxes).find((s) => s.name === "synthetic")
        expect(restarted?.pid).not.toBe(before?.pid)
        const killedAt = Date.now()
        yield* eventually("forming bars again", stored("BBB/USD", "datahub.live_data"), () => true)
        yield* eventually("the stream moves again", liveStatus, (s) => {
          const at = s.connections[0]?.lastMessageAt
          return at !== null && at !== undefined && at.epochMillis > killedAt
        })
        // Every bar from the seeded one on, each once, with its true values, no hole.
        const all = yield* stored("AAA/USD")
        const last = all.at(-1)!.ts
        expect(last).toBeGreaterThanOrEqual(filledTo - MINUTE)
        expect(all).toEqual(truth("AAA/USD", seeded, last + MINUTE))
      })
    )
  }
)
