import { HttpApiClient } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { DataHubApi, ProviderName, SubscriptionId, Timeframe } from "@quasar/domain"
import { TestDatabase } from "@quasar/server/testing"
import { DateTime, Duration, Effect, Layer } from "effect"
import type { CollectionConfigValues } from "../../src/collect/CollectionConfig"
import { inProcessBarSource } from "../../src/testing/InProcessSources"
import { Script, scriptedProvider } from "./scripted"
import {
  adminClient,
  collectingApp,
  collectionRuns,
  eventually,
  MINUTE,
  probe,
  seriesState,
  storedBars
} from "./support"

const DAY = 1_440 * MINUTE
const scripted = ProviderName.make("scripted")

const start = (script: Script, config: Partial<CollectionConfigValues> = {}) =>
  Effect.gen(function* () {
    const databaseUrl = yield* TestDatabase.fresh
    const app = yield* Layer.build(
      collectingApp({
        databaseUrl,
        source: inProcessBarSource([scriptedProvider("scripted", script)]),
        config
      })
    )
    const db = yield* Layer.build(probe(databaseUrl))
    return { app, db, client: yield* Effect.provide(adminClient, app) }
  })

const exec = (f: (sql: SqlClient.SqlClient) => Effect.Effect<unknown, unknown>) =>
  Effect.flatMap(SqlClient.SqlClient, f).pipe(Effect.orDie)

describe("the subscriptions API", () => {
  it.live(
    "creates one row per timeframe, idempotently, by provider symbol or by mapped common symbol",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const { db, client } = yield* start(new Script())
          const from = DateTime.unsafeMake(Timeframe.barOpen("1d", Date.now() - 3 * DAY))
          const created = yield* client.subscriptions.create({
            payload: {
              provider: scripted,
              symbol: "ACME",
              timeframes: ["1h", "1d"],
              mode: "history",
              backfillFrom: from
            }
          })
          expect(created.map((s) => s.timeframe)).toEqual(["1h", "1d"])
          expect(created.every((s) => s.symbol === "ACME" && s.state.status === "backfilling")).toBe(true)
          const again = yield* client.subscriptions.create({
            payload: { provider: scripted, symbol: "ACME", timeframes: ["1d", "1m"], mode: "both" }
          })
          // The existing 1d row comes back switched to the requested mode (never silently
          // kept as it was), the new 1m row is added.
          expect(again.map((s) => [s.timeframe, s.mode])).toEqual([
            ["1d", "both"],
            ["1m", "both"]
          ])
          const listed = yield* client.subscriptions.get({ path: { id: created[1]!.id } })
          expect(listed.mode).toBe("both")
          expect(again.find((s) => s.timeframe === "1d")?.id).toBe(created[1]?.id)
          // Without backfillFrom, intraday starts 30 days back.
          const minute = again.find((s) => s.timeframe === "1m")!
          expect(DateTime.toEpochMillis(minute.backfillFrom!)).toBeCloseTo(Date.now() - 30 * DAY, -6)

          yield* Effect.provide(
            exec(
              (sql) =>
                sql`INSERT INTO asset_mapping (common_symbol, source, source_kind, symbol)
                  VALUES ('ACME-COMMON', 'scripted', 'provider', 'ACME')`
            ),
            db
          )
          const mapped = yield* client.subscriptions.create({
            payload: { provider: scripted, commonSymbol: "ACME-COMMON", timeframes: ["1h"], mode: "history" }
          })
          expect(mapped.map((s) => s.id)).toEqual([created[0]?.id])

          const all = yield* client.subscriptions.list({ urlParams: {} })
          expect(all).toHaveLength(3)
          const byStatus = yield* client.subscriptions.list({
            urlParams: { provider: scripted, status: "paused" }
          })
          expect(byStatus).toHaveLength(0)
          const one = yield* client.subscriptions.get({ path: { id: created[0]!.id } })
          expect(one).toMatchObject({ provider: "scripted", symbol: "ACME", timeframe: "1h" })
        })
      ),
    60_000
  )

  it.live(
    "refuses what cannot be collected, naming the problem; writes need the admin token",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const { app, client } = yield* start(new Script())
          const payload = { provider: scripted, symbol: "ACME", mode: "history" } as const
          const unsupported = yield* Effect.flip(
            client.subscriptions.create({ payload: { ...payload, timeframes: ["1h", "4h", "1w"] } })
          )
          expect(unsupported).toMatchObject({
            _tag: "InvalidRequest",
            message: expect.stringContaining("4h, 1w")
          })
          const unknown = yield* Effect.flip(
            client.subscriptions.create({
              payload: { ...payload, provider: ProviderName.make("nosuch"), timeframes: ["1h"] }
            })
          )
          expect(unknown).toMatchObject({ _tag: "NotFound", message: expect.stringContaining('"nosuch"') })
          const unmapped = yield* Effect.flip(
            client.subscriptions.create({
              payload: { provider: scripted, commonSymbol: "NOWHERE", timeframes: ["1h"], mode: "history" }
            })
          )
          expect(unmapped).toMatchObject({ _tag: "NotFound", message: expect.stringContaining("NOWHERE") })
          // In the API user's words: what to do, not which table or route.
          expect(unmapped.message).toContain("add the mapping in the Registry")
          expect(unmapped.message).not.toMatch(/asset_mapping|PUT \/|GET \//)
          const missing = yield* Effect.flip(
            client.subscriptions.get({ path: { id: SubscriptionId.make(999) } })
          )
          expect(missing).toMatchObject({
            _tag: "NotFound",
            message: expect.stringContaining("list the subscriptions")
          })
          expect(missing.message).not.toMatch(/GET \//)

          const anonymous = yield* Effect.provide(HttpApiClient.make(DataHubApi), app)
          const refused = yield* Effect.flip(
            anonymous.subscriptions.create({ payload: { ...payload, timeframes: ["1h"] } })
          )
          expect(refused).toMatchObject({ _tag: "Unauthorized" })
          expect(yield* client.subscriptions.list({ urlParams: {} })).toHaveLength(0)
        })
      ),
    60_000
  )

  it.live(
    "24/7 markets: coverage counts the missing bars and the gap scan fills them once the provider has them",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const script = new Script()
          script.late = (ts) => (ts / MINUTE) % 97 === 5
          const { db, client } = yield* start(script, {
            gapScanEvery: Duration.millis(300),
            emptyRecheckAfter: Duration.seconds(1)
          })
          yield* Effect.provide(
            exec(
              (sql) =>
                sql`INSERT INTO assets (provider, symbol, asset_class) VALUES ('scripted', 'COIN/USD', 'crypto')`
            ),
            db
          )
          const from = Timeframe.barOpen("1m", Date.now() - DAY)
          const [sub] = yield* client.subscriptions.create({
            payload: {
              provider: scripted,
              symbol: "COIN/USD",
              timeframes: ["1m"],
              mode: "history",
              backfillFrom: DateTime.unsafeMake(from)
            }
          })
          const id = sub!.id
          yield* Effect.provide(
            eventually("backfilled", seriesState(id), (s) => s.status === "current"),
            db
          )
          const holed = yield* client.subscriptions.coverage({ path: { id } })
          const missing = script
            .truth("COIN/USD", "1m", from, DateTime.toEpochMillis(holed.last!))
            .filter((b) => script.late(b.ts))
          expect(missing.length).toBeGreaterThan(10)
          expect(holed.gaps.map((g) => [DateTime.toEpochMillis(g.from), g.missing])).toEqual(
            missing.map((b) => [b.ts, 1])
          )
          expect(holed.first && DateTime.toEpochMillis(holed.first)).toBe(from)

          script.lateServed = true
          const filled = yield* eventually(
            "the gaps are filled",
            client.subscriptions.coverage({ path: { id } }),
            (c) => c.gaps.length === 0,
            "15 seconds"
          )
          const last = DateTime.toEpochMillis(filled.last!)
          expect(filled.count).toBe(script.truth("COIN/USD", "1m", from, last + MINUTE).length)
          const gapRuns = (yield* Effect.provide(collectionRuns(id), db)).filter((r) => r.kind === "gap")
          expect(gapRuns.length).toBeGreaterThanOrEqual(missing.length)
        })
      ),
    60_000
  )

  it.live(
    "exchange hours: ranges the provider skipped while answering later bars are never asked for again",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const script = new Script()
          // Open 00:00–08:00 UTC only; runs of 500 bars often end (and start) in closed hours.
          script.closed = (ts) => (ts / MINUTE) % 1_440 >= 480
          const { db, client } = yield* start(script, {
            gapScanEvery: Duration.millis(300),
            maxBarsPerRun: 500
          })
          const from = Timeframe.barOpen("1d", Date.now() - 4 * DAY)
          const [sub] = yield* client.subscriptions.create({
            payload: {
              provider: scripted,
              symbol: "SHOP.US",
              timeframes: ["1m"],
              mode: "history",
              backfillFrom: DateTime.unsafeMake(from)
            }
          })
          const id = sub!.id
          const done = yield* Effect.provide(
            eventually("backfilled", seriesState(id), (s) => s.status === "current"),
            db
          )
          // Several gap scans later, not one closed night between stored bars was requested
          // again; only the hours since the last close (never confirmed by a later bar) are
          // asked once, and then known empty.
          yield* Effect.sleep("1500 millis")
          const runs = yield* Effect.provide(collectionRuns(id), db)
          const gapRuns = runs.filter((r) => r.kind === "gap")
          expect(gapRuns.filter((r) => r.from <= done.lastBarAt!)).toEqual([])
          expect(gapRuns.length).toBeLessThanOrEqual(1)
          const known = yield* Effect.provide(
            exec((sql) => sql<{ n: number }>`SELECT count(*)::int AS n FROM collection_empty_ranges`),
            db
          )
          expect(known).toEqual([{ n: expect.any(Number) }])
          const nights = script
            .truth("SHOP.US", "1m", from, done.lastBarAt! + MINUTE)
            .filter((b, i, all) => i > 0 && b.ts - all[i - 1]!.ts > MINUTE).length
          expect(nights).toBeGreaterThanOrEqual(3)
          // Coverage does not count closed hours as gaps.
          const coverage = yield* client.subscriptions.coverage({ path: { id } })
          expect(coverage.gaps).toEqual([])
          expect(coverage.count).toBe(script.truth("SHOP.US", "1m", from, done.lastBarAt! + MINUTE).length)
        })
      ),
    60_000
  )

  it.live(
    "delete keeps the stored bars unless purge=true",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const script = new Script()
          const { db, client } = yield* start(script)
          const from = DateTime.unsafeMake(Timeframe.barOpen("1h", Date.now() - 2 * DAY))
          const [kept, purged] = yield* Effect.forEach(["KEEP", "PURGE"], (symbol) =>
            client.subscriptions.create({
              payload: { provider: scripted, symbol, timeframes: ["1h"], mode: "history", backfillFrom: from }
            })
          )
          for (const [sub] of [kept!, purged!])
            yield* Effect.provide(
              eventually("backfilled", seriesState(sub!.id), (s) => s.status === "current"),
              db
            )
          yield* client.subscriptions.remove({ path: { id: kept![0]!.id }, urlParams: {} })
          yield* client.subscriptions.remove({ path: { id: purged![0]!.id }, urlParams: { purge: true } })
          expect(yield* client.subscriptions.list({ urlParams: {} })).toHaveLength(0)
          expect((yield* Effect.provide(storedBars("scripted", "KEEP", "1h"), db)).length).toBeGreaterThan(40)
          expect(yield* Effect.provide(storedBars("scripted", "PURGE", "1h"), db)).toHaveLength(0)
          const again = yield* Effect.flip(
            client.subscriptions.remove({ path: { id: kept![0]!.id }, urlParams: {} })
          )
          expect(again).toMatchObject({ _tag: "NotFound" })
        })
      ),
    60_000
  )
})
