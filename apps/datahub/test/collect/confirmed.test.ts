/**
 * A run counts the bars the database holds after its commit, not the bars it sent. A trigger
 * makes the database swallow some rows of a backfill once (the statement still commits): the
 * run that met them says so and stops before them, the next run writes them again, and no run
 * ever reports a range as done while bars of it are missing.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Timeframe } from "@quasar/domain"
import { barsBetween, syntheticProvider as synthetic } from "@quasar/providers/synthetic"
import { TestDatabase } from "@quasar/server/testing"
import { DateTime, Effect, Layer } from "effect"
import { inProcessBarSource } from "../../src/testing/InProcessSources"
import {
  acceleratedClock,
  adminClient,
  collectingApp,
  collectionRuns,
  MINUTE,
  storedBars,
  subscribeSynthetic,
  untilBackfilled
} from "./support"

/** Rows in [from, to) vanish on their first insert (COPY, INSERT and upsert all fire the trigger). */
const swallowOnce = (from: number, to: number) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`CREATE TABLE swallowed (ts timestamptz PRIMARY KEY)`
    yield* sql.unsafe(`CREATE FUNCTION swallow_once() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.ts >= to_timestamp(${from / 1000}) AND NEW.ts < to_timestamp(${to / 1000})
           AND NOT EXISTS (SELECT 1 FROM swallowed WHERE ts = NEW.ts) THEN
          INSERT INTO swallowed VALUES (NEW.ts);
          RETURN NULL;
        END IF;
        RETURN NEW;
      END $$`)
    yield* sql`CREATE TRIGGER swallow_once BEFORE INSERT ON datahub.historical_data
      FOR EACH ROW EXECUTE FUNCTION swallow_once()`
    return sql<{ n: number }>`SELECT count(*)::int AS n FROM swallowed`.pipe(Effect.map(([r]) => r?.n ?? 0))
  })

describe("collection counts what the database confirms", () => {
  it.live(
    "bars swallowed in the middle of a backfill are reported and written again, never counted as done",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const { clock, now } = acceleratedClock(30)
          const app = collectingApp({
            databaseUrl: yield* TestDatabase.fresh,
            source: inProcessBarSource([synthetic], { synthetic: { symbols: "SYN/USD", seed: 42 } }, now),
            config: { clock, maxBarsPerRun: 1_500, marginMs: 1_000 }
          })
          const ctx = yield* Layer.build(app)
          const client = yield* Effect.provide(adminClient, ctx)
          const from = Timeframe.barOpen("1m", now() - 3 * 1_440 * MINUTE)
          // In the middle of the second run, and spread over two of its groups.
          const lostFrom = from + 2_000 * MINUTE
          const lostTo = lostFrom + 695 * MINUTE
          const swallowed = yield* Effect.provide(swallowOnce(lostFrom, lostTo), ctx)

          const { id } = yield* subscribeSynthetic(client, from)
          const current = yield* untilBackfilled(client, id, "40 seconds")
          expect(current.state.backfillProgress).toBe(100)
          expect(yield* Effect.provide(swallowed, ctx)).toBe(695)

          const lastBar = DateTime.toEpochMillis(current.state.lastBarAt!)
          const truth = barsBetween({ seed: 42 }, "SYN/USD", "1m", from, lastBar + MINUTE).map((b) => b.ts)
          const stored = (yield* Effect.provide(storedBars("synthetic", "SYN/USD", "1m"), ctx)).map(
            (b) => b.ts
          )
          expect(stored.slice(0, truth.length)).toEqual(truth)

          const runs = (yield* Effect.provide(collectionRuns(id), ctx)).filter((r) => r.kind === "backfill")
          const inRange = (a: number, b: number) => truth.filter((ts) => ts >= a && ts < b).length
          // The run that met the swallowed bars failed, counting only the bars before them.
          const failed = runs.filter((r) => r.status === "failed")
          expect(failed.length).toBe(1)
          expect(failed[0]!.error).toContain("were not in the database after their commit")
          expect(failed[0]!.error).toContain(new Date(lostFrom).toISOString())
          expect(failed[0]!.rows).toBe(inRange(failed[0]!.from, lostFrom))
          // The next run starts at the first swallowed bar; every successful run counted its whole range.
          const next = runs[runs.indexOf(failed[0]!) + 1]!
          expect(next.from).toBe(lostFrom)
          for (const r of runs.filter((r) => r.status === "ok")) expect(r.rows).toBe(inRange(r.from, r.to))
          // Rows reported over all runs are exactly the bars stored, none counted twice.
          expect(runs.reduce((n, r) => n + r.rows, 0)).toBe(inRange(from, Math.max(...runs.map((r) => r.to))))
        })
      ),
    90_000
  )
})
