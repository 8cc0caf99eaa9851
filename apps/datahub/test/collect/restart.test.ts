import { describe, expect, it } from "@effect/vitest"
import { Timeframe } from "@quasar/domain"
import { barsBetween, syntheticProvider as synthetic } from "@quasar/providers/synthetic"
import { TcpProxy, TestDatabase } from "@quasar/server/testing"
import { Effect, Exit, Layer, Scope } from "effect"
import { inProcessBarSource } from "../../src/testing/InProcessSources"
import {
  adminClient,
  collectingApp,
  collectionRuns,
  eventually,
  MINUTE,
  probe,
  SourceLog,
  seriesState,
  storedBars,
  subscribeSynthetic
} from "./support"

const source = inProcessBarSource([synthetic], { synthetic: { symbols: "SYN/USD", seed: 42 } })
const truthTs = (from: number, to: number) =>
  barsBetween({ seed: 42 }, "SYN/USD", "1m", from, to).map((b) => b.ts)

/** Subscribes SYN/USD 1m from ten days back (14,400 bars: 15 synthetic pages). */
const subscribe = Effect.gen(function* () {
  const from = Timeframe.barOpen("1m", Date.now() - 10 * 1_440 * MINUTE)
  const sub = yield* subscribeSynthetic(yield* adminClient, from)
  return { id: sub.id, from }
})

const untilCurrent = (id: number) =>
  eventually("the backfill is done", seriesState(id), (s) => s.status === "current", "40 seconds")

describe("collection survives DataHub and database failures", () => {
  it.live(
    "killing DataHub mid-backfill and starting it again stores every bar once, resuming where it stopped",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const databaseUrl = yield* TestDatabase.fresh
          const db = yield* Layer.build(probe(databaseUrl))
          const log = new SourceLog()
          log.pageDelayMs = 150 // a slow provider: the backfill takes a few seconds

          const firstLife = yield* Scope.make()
          const first = yield* Layer.buildWithScope(collectingApp({ databaseUrl, source, log }), firstLife)
          const { id, from } = yield* Effect.provide(subscribe, first)
          yield* Effect.provide(
            eventually("a few pages are committed", seriesState(id), (s) => s.count >= 3_000),
            db
          )
          yield* Scope.close(firstLife, Exit.void)

          const atKill = yield* Effect.provide(seriesState(id), db)
          expect(atKill.status).toBe("backfilling")
          expect(atKill.collectedUntil).toBe(atKill.lastBarAt! + MINUTE)
          // Everything before the recorded progress is stored, without a hole.
          const storedAtKill = yield* Effect.provide(storedBars("synthetic", "SYN/USD", "1m"), db)
          expect(storedAtKill.map((b) => b.ts).filter((ts) => ts < atKill.collectedUntil!)).toEqual(
            truthTs(from, atKill.collectedUntil!)
          )
          const runsAtKill = yield* Effect.provide(collectionRuns(id), db)
          expect(runsAtKill.at(-1)).toMatchObject({ status: "interrupted", kind: "backfill" })

          const second = yield* Layer.build(collectingApp({ databaseUrl, source, log }))
          const done = yield* Effect.provide(untilCurrent(id), second)
          // Only up to what was read as collected: a current subscription goes on with each minute that closes.
          const stored = (yield* Effect.provide(storedBars("synthetic", "SYN/USD", "1m"), db)).filter(
            (b) => b.ts <= done.lastBarAt!
          )
          expect(stored.map((b) => b.ts)).toEqual(truthTs(from, done.lastBarAt! + MINUTE))
          expect(done.count).toBe(stored.length)
          // The new DataHub asked only for what was not committed...
          const resumed = (yield* Effect.provide(collectionRuns(id), db)).slice(runsAtKill.length)
          expect(resumed[0]?.from).toBe(atKill.collectedUntil)
          expect(resumed.every((r) => r.from >= atKill.collectedUntil!)).toBe(true)
          // ...so only pages in hand at the kill (fetched ahead or being written, not yet recorded)
          // were downloaded twice, never a bar recorded as collected.
          expect(log.repeatedTimes().filter((ts) => ts < atKill.collectedUntil!)).toEqual([])
        })
      ),
    90_000
  )

  it.live(
    "a database outage pauses collection, which resumes when it is back and loses nothing",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const direct = yield* TestDatabase.fresh
          const { proxy, url: proxied } = yield* TcpProxy.inFrontOf(direct)
          const db = yield* Layer.build(probe(direct))
          const log = new SourceLog()
          log.pageDelayMs = 100

          const app = yield* Layer.build(collectingApp({ databaseUrl: proxied, source, log }))
          const { id, from } = yield* Effect.provide(subscribe, app)
          yield* Effect.provide(
            eventually("a few pages are committed", seriesState(id), (s) => s.count >= 2_000),
            db
          )
          yield* proxy.cut
          yield* Effect.sleep("300 millis")
          const during = yield* Effect.provide(seriesState(id), db)
          yield* Effect.sleep("2 seconds")
          const later = yield* Effect.provide(seriesState(id), db)
          // Nothing moves while DataHub cannot reach the database, and nothing is marked failed.
          expect(later).toEqual(during)
          expect(later.status).toBe("backfilling")
          yield* proxy.restore

          const done = yield* Effect.provide(untilCurrent(id), db)
          expect(done.lastError).toBeNull()
          // Only up to what was read as collected: a current subscription goes on with each minute that closes.
          const stored = (yield* Effect.provide(storedBars("synthetic", "SYN/USD", "1m"), db)).filter(
            (b) => b.ts <= done.lastBarAt!
          )
          expect(stored.map((b) => b.ts)).toEqual(truthTs(from, done.lastBarAt! + MINUTE))
          // The writer waits out the outage; a run that failed meanwhile says why.
          const runs = yield* Effect.provide(collectionRuns(id), db)
          const backfills = runs.filter((r) => r.kind === "backfill")
          const failed = backfills.filter((r) => r.status !== "ok")
          expect(failed.filter((r) => r.status !== "failed" || !/database/.test(r.error ?? ""))).toEqual([])
          // Nothing recorded as collected is downloaded again: the run after a failed one starts
          // where the committed series ended, and every bar fetched twice lies after that point.
          const resumedFrom = backfills.flatMap((r, i) =>
            r.status !== "ok" && backfills[i + 1] !== undefined ? [backfills[i + 1]!.from] : []
          )
          for (let i = 1; i < backfills.length; i++)
            expect(backfills[i]!.from).toBeGreaterThanOrEqual(backfills[i - 1]!.from)
          const twice = [...log.timesDelivered()].filter(([, n]) => n > 1).map(([ts]) => ts)
          expect(twice.filter((ts) => !resumedFrom.some((from) => ts >= from))).toEqual([])
        })
      ),
    90_000
  )
})
