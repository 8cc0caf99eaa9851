/**
 * What the live tests share: the fake Kraken and the DataHub app on one accelerated clock (60×:
 * a 1m bar closes every second), the Kraken provider run in-process for both live events and gap
 * fills, short live timeouts, and the ground-truth check every fault test ends with.
 */
import { SqlClient } from "@effect/sql"
import { ProviderName } from "@quasar/domain"
import { type FakeKraken, startFakeKraken } from "@quasar/providers/testing"
import { DatabaseUrl } from "@quasar/server"
import { TestService } from "@quasar/server/testing"
import { type Duration, Effect, Layer, Logger, LogLevel, Redacted } from "effect"
import { expect } from "vitest"
import { appLayer } from "../../src/App"
import type { LiveConfigValues } from "../../src/live/LiveConfig"
import { MemoryCatalog } from "../../src/testing/MemoryCatalog"
import { adminClient, eventually } from "../collect/support"
import { krakenInProcess } from "./clock"

export { adminClient, eventually, probe } from "../collect/support"

export { acceleratedNow, SPEED, testLiveConfig } from "./clock"

export const MINUTE = 60_000

/** A fake Kraken on `now`, pushing every 100 ms real (6 s fake), closed when the scope closes. */
export const fakeKraken = (now: () => number, options: { readonly snapshotBars?: number } = {}) =>
  Effect.acquireRelease(
    Effect.promise(() => startFakeKraken({ now, updateEveryMs: 100, heartbeatEveryMs: 200, ...options })),
    (fake) => Effect.promise(() => fake.close())
  )

/** The whole DataHub on `databaseUrl` with Kraken in-process against `fake` (see `krakenInProcess`). */
export const liveApp = (
  databaseUrl: string,
  fake: FakeKraken,
  now: () => number,
  overrides: Partial<LiveConfigValues> = {}
) => {
  return TestService.layer(
    appLayer({}, "external")
      .pipe(Layer.provideMerge(MemoryCatalog.layer))
      .pipe(Layer.provide(krakenInProcess(fake, now, overrides))),
    Layer.succeed(DatabaseUrl, { url: Redacted.make(databaseUrl), embedded: false })
  ).pipe(Layer.provide(Logger.minimumLogLevel(process.env.LIVE_TEST_LOGS ? LogLevel.Info : LogLevel.Error)))
}

/** Subscribes Kraken `symbols` (1m, live only) through the API; yields the ids in order. */
export const subscribeLive = (symbols: ReadonlyArray<string>, mode: "live" | "both" = "live") =>
  Effect.gen(function* () {
    const api = yield* adminClient
    const ids: Array<number> = []
    for (const symbol of symbols) {
      const [sub] = yield* api.subscriptions.create({
        payload: { provider: ProviderName.make("kraken"), symbol, timeframes: ["1m"], mode }
      })
      ids.push(sub!.id)
    }
    return ids
  })

/** The stored closed bars of a Kraken 1m series, ascending. */
export const storedBars = (symbol: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) =>
      sql<{
        ts: number
        open: number
        high: number
        low: number
        close: number
        volume: number
        vwap: number | null
        trades: number | null
      }>`SELECT (extract(epoch FROM ts) * 1000)::float8 AS ts, open, high, low, close, volume, vwap, trades
      FROM datahub.historical_data WHERE provider = 'kraken' AND symbol = ${symbol} AND timeframe = '1m' ORDER BY ts`
  )

/** Polls until `symbol` has a stored closed bar at or after `ts`. */
export const storedUntil = (symbol: string, ts: number, within: Duration.DurationInput = "20 seconds") =>
  eventuallyStored(symbol, (bars) => bars.some((b) => b.ts >= ts), within)

const eventuallyStored = (
  symbol: string,
  check: (bars: ReadonlyArray<{ readonly ts: number }>) => boolean,
  within: Duration.DurationInput
) => eventually(`bars of ${symbol} are stored`, storedBars(symbol), check, within)

/** The fields a stored or pushed bar must share with the truth (no-trade bars: trades 0 vs none). */
export const comparable = (b: {
  readonly ts: number
  readonly open: number
  readonly high: number
  readonly low: number
  readonly close: number
  readonly volume: number
  readonly trades?: number | null | undefined
}) => ({
  ts: b.ts,
  open: b.open,
  high: b.high,
  low: b.low,
  close: b.close,
  volume: b.volume,
  trades: b.trades ?? 0
})

/**
 * The stored closed bars of `symbol` in [from, to) against the fake's ground truth: every bar
 * that traded is there (no bar lost), every stored bar is a real bar with its final values (none
 * wrong; the primary key rules out duplicates). No-trade minutes are bars only in history (REST
 * serves them flat, the WebSocket sends nothing), so `mustHaveAll` ranges — gap fills — must hold
 * those too. Returns how many bars were checked.
 */
export const expectGroundTruth = (
  fake: FakeKraken,
  symbol: string,
  from: number,
  to: number,
  mustHaveAll: ReadonlyArray<readonly [number, number]> = []
) =>
  Effect.gen(function* () {
    const stored = (yield* storedBars(symbol)).filter((b) => b.ts >= from && b.ts < to)
    const truth = fake.closedBars(symbol, "1m", from, to)
    const byTs = new Map(truth.map((b) => [b.ts, b]))
    const storedTs = new Set(stored.map((b) => b.ts))
    const wrong = stored.filter((b) => {
      const real = byTs.get(b.ts)
      return real === undefined || JSON.stringify(comparable(real)) !== JSON.stringify(comparable(b))
    })
    expect(
      JSON.stringify(
        wrong.map((b) => ({ stored: b, truth: byTs.get(b.ts) })),
        null,
        1
      )
    ).toEqual("[]")
    const lost = truth.filter(
      (b) => !storedTs.has(b.ts) && (b.trades !== 0 || mustHaveAll.some(([f, t]) => b.ts >= f && b.ts < t))
    )
    expect(lost.map((b) => new Date(b.ts).toISOString())).toEqual([])
    return stored.length
  })

/** The live status through the API. */
export const liveStatus = Effect.flatMap(adminClient, (api) => api.live.status())
