import { HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { DataHubApi, ProviderName, SubscriptionId, Timeframe } from "@quasar/domain"
import { TestDatabase, TestService } from "@quasar/server/testing"
import { DateTime, Duration, Effect, Fiber, Layer } from "effect"
import type { CollectionConfigValues } from "../../src/collect/CollectionConfig"
import { Scheduler } from "../../src/collect/Scheduler"
import { BarWriter } from "../../src/store/BarWriter"
import { inProcessBarSource } from "../../src/testing/InProcessSources"
import { MemoryCatalog } from "../../src/testing/MemoryCatalog"
import { Script, scriptedProvider } from "./scripted"
import {
  adminClient,
  collectingApp,
  collectionRuns,
  eventually,
  loopClock,
  MINUTE,
  probe,
  runningLoops,
  seriesState,
  storedBars
} from "./support"

const DAY = 1_440 * MINUTE
const scripted = ProviderName.make("scripted")

const start = (script: Script, config: Partial<CollectionConfigValues> = {}) =>
  Effect.gen(function* () {
    const databaseUrl = yield* TestDatabase.fresh
    // The provider publishes up to the loops' now: on their clock when the test drives one.
    const { clock } = config
    const now = clock === undefined ? undefined : () => clock.unsafeCurrentTimeMillis()
    const app = yield* Layer.build(
      collectingApp({
        databaseUrl,
        source: inProcessBarSource([scriptedProvider("scripted", script)], {}, now),
        config
      })
    )
    const db = yield* Layer.build(probe(databaseUrl))
    /** What the Registry holds, as DataHub reads it. */
    const registry = (f: (catalog: MemoryCatalog["Type"]) => Effect.Effect<void>) =>
      Effect.provide(Effect.flatMap(MemoryCatalog, f), app)
    return { app, db, registry, client: yield* Effect.provide(adminClient, app) }
  })

const exec = (f: (sql: SqlClient.SqlClient) => Effect.Effect<unknown, unknown>) =>
  Effect.flatMap(SqlClient.SqlClient, f).pipe(Effect.orDie)

/** When subscription `id` was last written (epoch ms). */
const loopMarks = (id: number) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql<{ updated: number }>`
      SELECT (extract(epoch FROM updated_at) * 1000)::float8 AS updated
      FROM datahub.provider_subscription WHERE id = ${id}`.pipe(Effect.map((rows) => rows[0]!))
  ).pipe(Effect.orDie)

describe("the subscriptions API", () => {
  it.live(
    "creates one row per timeframe, idempotently, by provider symbol or by mapped common symbol",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const { client, registry } = yield* start(new Script())
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

          yield* registry((c) =>
            c.putMapping({ commonSymbol: "ACME-COMMON", provider: "scripted", symbol: "ACME" })
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
    "another service makes a series live with the service credential, keeping what is collected",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const { app, client } = yield* start(new Script())
          const service = yield* Effect.provide(
            HttpApiClient.make(DataHubApi, {
              transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken(TestService.SERVICE_TOKEN))
            }),
            app
          )
          const demand = (symbol: string) =>
            service.liveDemand.ensure({ payload: { provider: scripted, symbol, timeframe: "1m" } })
          // Missing: created live.
          const created = yield* demand("NEW")
          expect(created).toMatchObject({ symbol: "NEW", timeframe: "1m", mode: "live" })
          // Live already: left as it is (the same row).
          expect(yield* demand("NEW")).toMatchObject({ id: created.id, mode: "live" })
          // History only: becomes both, and its backfill is not restarted.
          const [history] = yield* client.subscriptions.create({
            payload: { provider: scripted, symbol: "OLD", timeframes: ["1m"], mode: "history" }
          })
          const both = yield* demand("OLD")
          expect(both).toMatchObject({ id: history!.id, mode: "both" })
          expect(DateTime.toEpochMillis(both.backfillFrom!)).toBe(
            DateTime.toEpochMillis(history!.backfillFrom!)
          )
          // The admin token is not the service credential; an unknown provider is a 4xx.
          expect(
            (yield* Effect.flip(
              client.liveDemand.ensure({ payload: { provider: scripted, symbol: "X", timeframe: "1m" } })
            ))._tag
          ).toBe("Unauthorized")
          const unknown = yield* Effect.flip(
            service.liveDemand.ensure({
              payload: { provider: ProviderName.make("nowhere"), symbol: "X", timeframe: "1m" }
            })
          )
          expect(["NotFound", "InvalidRequest"]).toContain(unknown._tag)
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
          const { db, client, registry } = yield* start(script, {
            gapScanEvery: Duration.millis(300),
            emptyRecheckAfter: Duration.seconds(1)
          })
          yield* registry((c) => c.putAssets("scripted", [{ symbol: "COIN/USD", assetClass: "crypto" }]))
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
          const gapScanEvery = Duration.millis(300)
          const clock = yield* loopClock
          const { db, client } = yield* start(script, { gapScanEvery, maxBarsPerRun: 500, clock })
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
          // Several gap scans: the loop's clock moves on a scan period at a time, and each time the
          // test waits until the loop has recorded what the scan found (after its gap runs).
          for (let scan = 0; scan < 4; scan++) {
            const before = yield* Effect.provide(loopMarks(id), db)
            yield* clock.adjust(gapScanEvery)
            yield* Effect.provide(
              eventually("the loop scanned", loopMarks(id), (m) => m.updated > before.updated),
              db
            )
          }
          // Not one closed night between stored bars was requested again; only the hours since
          // the last close (never confirmed by a later bar) are asked once, and then known empty.
          const runs = yield* Effect.provide(collectionRuns(id), db)
          const gapRuns = runs.filter((r) => r.kind === "gap")
          expect(gapRuns.filter((r) => r.from <= done.lastBarAt!)).toEqual([])
          expect(gapRuns.length).toBeLessThanOrEqual(1)
          const known = yield* Effect.provide(
            exec((sql) => sql<{ n: number }>`SELECT count(*)::int AS n FROM datahub.collection_empty_ranges`),
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
    "a purge in the middle of a backfill, with re-reads racing it, leaves no bar and no loop",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const script = new Script()
          script.pageBars = 60
          script.pageDelayMs = 15
          const { app, db, client } = yield* start(script)
          const from = DateTime.unsafeMake(Timeframe.barOpen("1m", Date.now() - 3 * DAY))
          const [created] = yield* client.subscriptions.create({
            payload: {
              provider: scripted,
              symbol: "RACE",
              timeframes: ["1m"],
              mode: "history",
              backfillFrom: from
            }
          })
          const id = created!.id
          yield* Effect.provide(
            eventually(
              "some bars stored",
              storedBars("scripted", "RACE", "1m"),
              (bars) => bars.length >= 120
            ),
            db
          )
          // What the change feed and the periodic re-read do, as often as they can: start the
          // loop again if the row is there and runnable.
          const rereads = yield* Effect.forkScoped(
            Effect.provide(
              Effect.flatMap(Scheduler, (scheduler) =>
                Effect.forever(Effect.zipRight(scheduler.refresh(id), Effect.sleep("1 millis")))
              ),
              app
            )
          )
          yield* client.subscriptions.remove({ path: { id }, urlParams: { purge: true } })
          yield* Fiber.interrupt(rereads)
          expect(yield* Effect.provide(runningLoops, app)).not.toContain(id)
          // Whatever any loop queued is committed by now, and none of it may remain.
          yield* Effect.provide(
            Effect.flatMap(BarWriter, (writer) => writer.flush),
            app
          )
          expect(yield* Effect.provide(storedBars("scripted", "RACE", "1m"), db)).toEqual([])
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
