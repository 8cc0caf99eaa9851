import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { ProviderName, SubscriptionId, Timeframe } from "@quasar/domain"
import { TestDatabase } from "@quasar/server/testing"
import { DateTime, Effect, Layer, type TestClock } from "effect"
import Pg from "pg"
import type { CollectionConfigValues } from "../../src/collect/CollectionConfig"
import { inProcessBarSource } from "../../src/testing/InProcessSources"
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
  SourceLog,
  seriesState,
  storedBars
} from "./support"

const DAY = 1_440 * MINUTE

/** The subscription's `collected_until` (epoch ms) as the database has it now, over a connection of its own. */
const recordedUntil = async (databaseUrl: string, symbol: string): Promise<number | null> => {
  const client = new Pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    const { rows } = await client.query<{ at: number | null }>(
      "SELECT (extract(epoch FROM collected_until) * 1000)::float8 AS at FROM datahub.provider_subscription WHERE symbol = $1",
      [symbol]
    )
    return rows[0]?.at ?? null
  } finally {
    await client.end()
  }
}

const start = (
  script: Script,
  config: Partial<CollectionConfigValues> = {},
  more: Array<[string, Script]> = []
) =>
  Effect.gen(function* () {
    const databaseUrl = yield* TestDatabase.fresh
    const log = new SourceLog()
    const providers = [scriptedProvider("scripted", script), ...more.map(([n, s]) => scriptedProvider(n, s))]
    // The providers publish up to the loops' now: on their clock when the test drives one.
    const { clock } = config
    const now = clock === undefined ? undefined : () => clock.unsafeCurrentTimeMillis()
    const app = yield* Layer.build(
      collectingApp({ databaseUrl, source: inProcessBarSource(providers, {}, now), log, config })
    )
    const db = yield* Layer.build(probe(databaseUrl))
    return { app, db, log, databaseUrl, client: yield* Effect.provide(adminClient, app) }
  })

const subscribe = (symbol: string, from: number, provider = "scripted") =>
  Effect.flatMap(adminClient, (client) =>
    client.subscriptions.create({
      payload: {
        provider: ProviderName.make(provider),
        symbol,
        timeframes: ["1m"],
        mode: "history",
        backfillFrom: DateTime.unsafeMake(from)
      }
    })
  ).pipe(Effect.map(([sub]) => sub!.id))

const current = (id: number) =>
  eventually("the backfill is done", seriesState(id), (s) => s.status === "current", "30 seconds")

const expectTruth = (
  script: Script,
  symbol: string,
  from: number,
  lastBarAt: number,
  provider = "scripted"
) =>
  Effect.gen(function* () {
    // A current subscription goes on collecting each minute that closes: only up to `lastBarAt` is checked.
    const stored = (yield* storedBars(provider, symbol, "1m")).filter((b) => b.ts <= lastBarAt)
    const truth = script.truth(symbol, "1m", from, lastBarAt + MINUTE)
    expect(stored.map((b) => b.ts)).toEqual(truth.map((b) => b.ts))
    expect(stored.map((b) => b.close)).toEqual(truth.map((b) => b.close))
  })

/**
 * Moves the loops' clock on by a day, longer than the loops ever wait (backoffs, bar closes, gap
 * scans) whatever the configuration, and checks that nothing was asked for or stored meanwhile.
 */
const nothingHappensFor = <E>(
  clock: TestClock.TestClock,
  ...observed: ReadonlyArray<readonly [string, Effect.Effect<unknown, E>]>
) =>
  Effect.gen(function* () {
    const before = yield* Effect.forEach(observed, ([, read]) => read)
    yield* clock.adjust("1 day")
    const after = yield* Effect.forEach(observed, ([, read]) => read)
    for (const [i, [what]] of observed.entries()) expect([what, after[i]]).toEqual([what, before[i]])
  })

describe("the collection scheduler", () => {
  it.live(
    "a pause (from this DataHub or another) stops collecting, resume goes on; nothing recorded as collected is downloaded again",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const script = new Script()
          script.pageBars = 200
          script.pageDelayMs = 150
          const clock = yield* loopClock
          const { app, db, log, client, databaseUrl } = yield* start(script, { clock })
          // What the database had recorded as collected when each request was made.
          const asked: Array<{ readonly from: number; readonly recorded: number | null }> = []
          script.onRequest = async (symbol, from) => {
            asked.push({ from, recorded: await recordedUntil(databaseUrl, symbol) })
          }
          const from = Timeframe.barOpen("1m", Date.now() - 3 * DAY)
          const id = yield* Effect.provide(subscribe("PAUSE", from), app)
          const path = { id: SubscriptionId.make(id) }
          yield* Effect.provide(
            eventually("pages are coming in", seriesState(id), (s) => s.count >= 600),
            db
          )

          const paused = yield* client.subscriptions.pause({ path })
          expect(paused.state.status).toBe("paused")
          // The run ends (recorded as interrupted) once the write already queued has committed;
          // after that nothing is asked for or stored.
          yield* Effect.provide(
            eventually(
              "the run is interrupted",
              collectionRuns(id),
              (runs) => runs.at(-1)?.status === "interrupted"
            ),
            db
          )
          // The subscription has no loop left to ask for anything, however long its clock runs on.
          // The loop records the state, then ends: it is gone a moment after the state says so.
          yield* Effect.provide(
            eventually("the loop has ended", runningLoops, (loops) => !loops.includes(id)),
            app
          )
          const stored = Effect.provide(
            Effect.map(seriesState(id), (s) => s.count),
            db
          )
          const pages = Effect.sync(() => log.pages.length)
          const requests = Effect.sync(() => script.requests.length)
          yield* nothingHappensFor(clock, ["bars stored", stored], ["pages", pages], ["requests", requests])
          const atPause = yield* Effect.provide(seriesState(id), db)

          yield* client.subscriptions.resume({ path })
          yield* Effect.provide(
            eventually("collection continues", seriesState(id), (s) => s.count >= atPause.count + 600),
            db
          )
          // Another DataHub pauses it: the change arrives through the `subscriptions` change feed.
          yield* Effect.provide(
            Effect.flatMap(SqlClient.SqlClient, (sql) =>
              sql.withTransaction(
                Effect.zipRight(
                  sql`UPDATE datahub.provider_subscription SET status = 'paused' WHERE id = ${id}`,
                  sql`INSERT INTO datahub.change_events (channel, payload) VALUES ('subscriptions', ${JSON.stringify({ id })}::jsonb)`
                )
              )
            ),
            db
          )
          yield* Effect.provide(
            eventually("its loop is stopped", runningLoops, (ids) => !ids.includes(id)),
            app
          )
          // Its last run has ended, and with it the writes it had queued.
          yield* Effect.provide(
            eventually("no run is going on", collectionRuns(id), (runs) => runs.at(-1)?.status !== "running"),
            db
          )
          yield* nothingHappensFor(clock, ["bars stored", stored], ["pages", pages], ["requests", requests])

          const resumed = yield* client.subscriptions.resume({ path })
          expect(resumed.state).toMatchObject({ status: "backfilling", lastError: null })
          const done = yield* Effect.provide(current(id), db)
          yield* Effect.provide(expectTruth(script, "PAUSE", from, done.lastBarAt!), db)
          // Nothing recorded as collected is asked for again: every request starts at or after
          // what was recorded when it was made. (Pages fetched but not yet recorded when a pause
          // came may be fetched again: they were never recorded as collected.)
          expect(asked.filter((a) => a.recorded !== null).length).toBeGreaterThanOrEqual(2)
          for (const { from: askedFrom, recorded } of asked)
            if (recorded !== null) expect(askedFrom).toBeGreaterThanOrEqual(recorded)
          expect(log.timesDelivered().size).toBeGreaterThan(0)
        })
      ),
    60_000
  )

  it.live(
    "subscriptions of one provider share its concurrency limit; another provider has its own",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const limited = new Script()
          const other = new Script()
          for (const s of [limited, other]) {
            s.pageBars = 200
            s.pageDelayMs = 60
          }
          const { db, app } = yield* start(
            limited,
            { maxBarsPerRun: 600, concurrency: { perProvider: 2, byProvider: { scripted: 1 } } },
            [["other", other]]
          )
          const from = Timeframe.barOpen("1m", Date.now() - DAY)
          const ids = yield* Effect.provide(
            Effect.all([
              subscribe("A", from),
              subscribe("B", from),
              subscribe("C", from, "other"),
              subscribe("D", from, "other")
            ]),
            app
          )
          const done = yield* Effect.provide(Effect.forEach(ids, current), db)
          expect(limited.maxActive).toBe(1)
          expect(other.maxActive).toBe(2)
          yield* Effect.provide(expectTruth(limited, "A", from, done[0]!.lastBarAt!), db)
          yield* Effect.provide(expectTruth(limited, "B", from, done[1]!.lastBarAt!), db)
          yield* Effect.provide(expectTruth(other, "C", from, done[2]!.lastBarAt!, "other"), db)
        })
      ),
    60_000
  )

  it.live(
    "a garbage page fails as a whole and is asked for again: never a partial write",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const script = new Script()
          script.garbagePages = 1
          const { db, app, log } = yield* start(script)
          const from = Timeframe.barOpen("1m", Date.now() - DAY)
          const id = yield* Effect.provide(subscribe("GARBAGE", from), app)
          const done = yield* Effect.provide(current(id), db)
          yield* Effect.provide(expectTruth(script, "GARBAGE", from, done.lastBarAt!), db)
          // The corrupted first page was asked for again from its start; nothing else was.
          expect(script.requests.map((r) => r.from)).toEqual([from, from])
          expect(log.repeated()).toBe(script.pageBars - 1)
          const [run] = yield* Effect.provide(collectionRuns(id), db)
          expect(run).toMatchObject({ status: "ok", retries: 1 })

          // A provider that keeps sending garbage gets nothing written and says why.
          script.garbagePages = 1_000
          const stuck = yield* Effect.provide(subscribe("ALWAYS-BAD", from), app)
          const failed = yield* Effect.provide(
            eventually("the failure is recorded", seriesState(stuck), (s) => s.lastError !== null),
            db
          )
          expect(failed).toMatchObject({ status: "backfilling", count: 0 })
          expect(failed.lastError).toContain("unsound bar")
          const [failedRun] = yield* Effect.provide(collectionRuns(stuck), db)
          expect(failedRun).toMatchObject({ status: "failed", rows: 0, retries: 3 })
        })
      ),
    60_000
  )

  it.live(
    "a fatal error stops the subscription at once with the reason; resume clears it and collection goes on",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const script = new Script()
          script.failures = ["fatal"]
          const clock = yield* loopClock
          const { db, app, client } = yield* start(script, { clock })
          const from = Timeframe.barOpen("1m", Date.now() - DAY)
          const id = yield* Effect.provide(subscribe("FATAL", from), app)
          const failed = yield* Effect.provide(
            eventually("the subscription is in error", seriesState(id), (s) => s.status === "error"),
            db
          )
          expect(failed.lastError).toContain("unknown symbol FATAL")
          // The loop records the state, then ends: it is gone a moment after the state says so.
          yield* Effect.provide(
            eventually("the loop has ended", runningLoops, (loops) => !loops.includes(id)),
            app
          )
          yield* nothingHappensFor(clock, ["requests", Effect.sync(() => script.requests.length)])
          expect(script.requests).toHaveLength(1)
          const shown = yield* client.subscriptions.get({ path: { id: SubscriptionId.make(id) } })
          expect(shown.state).toMatchObject({ status: "error", lastError: expect.stringContaining("FATAL") })

          yield* client.subscriptions.resume({ path: { id: SubscriptionId.make(id) } })
          const done = yield* Effect.provide(current(id), db)
          expect(done.lastError).toBeNull()
          yield* Effect.provide(expectTruth(script, "FATAL", from, done.lastBarAt!), db)
        })
      ),
    60_000
  )
})
