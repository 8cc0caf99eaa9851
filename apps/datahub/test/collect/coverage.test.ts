/**
 * Coverage and gap scans measure against what should be stored: from the subscription's
 * backfillFrom to where collection got, not from the first stored bar. Rows deleted behind the
 * collector's back, at the start, in the middle and at the end of a series, show up as gaps
 * (through the API) and the gap scan writes them again; the backfill is 100 % only then.
 */
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Timeframe } from "@quasar/domain"
import { barsBetween, syntheticProvider as synthetic } from "@quasar/providers/synthetic"
import { TestDatabase } from "@quasar/server/testing"
import { DateTime, Duration, Effect, Layer } from "effect"
import * as Plan from "../../src/collect/Plan"
import { inProcessBarSource } from "../../src/testing/InProcessSources"
import {
  acceleratedClock,
  adminClient,
  collectingApp,
  eventually,
  MINUTE,
  storedBars,
  subscribeSynthetic,
  untilBackfilled
} from "./support"

const ms = (t: DateTime.Utc) => DateTime.toEpochMillis(t)

describe("coverage is measured from backfillFrom", () => {
  it("progress is 100 % only without unconfirmed holes", () => {
    expect(Plan.coveragePercent(0, 100 * MINUTE, 0)).toBe(100)
    expect(Plan.coveragePercent(0, 100 * MINUTE, MINUTE)).toBe(99)
    // One missing bar in a long range is still not 100 %.
    expect(Plan.coveragePercent(0, 1_000_000 * MINUTE, MINUTE)).toBe(99.99)
    expect(Plan.coveragePercent(0, 100 * MINUTE, 100 * MINUTE)).toBe(0)
  })

  it.live(
    "rows deleted at the start, in the middle and at the end are gaps, and the gap scan writes them again",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const { clock, now } = acceleratedClock(30)
          const app = collectingApp({
            databaseUrl: yield* TestDatabase.fresh,
            source: inProcessBarSource([synthetic], { synthetic: { symbols: "SYN/USD", seed: 3 } }, now),
            config: { clock, marginMs: 1_000, gapScanEvery: Duration.minutes(2) }
          })
          const ctx = yield* Layer.build(app)
          const client = yield* Effect.provide(adminClient, ctx)
          const from = Timeframe.barOpen("1m", now() - 1_440 * MINUTE)
          const { id } = yield* subscribeSynthetic(client, from)
          yield* untilBackfilled(client, id, "30 seconds", (s) => s.state.backfillProgress === 100)
          // Paused, so that nothing repairs the holes while the coverage is read.
          yield* client.subscriptions.pause({ path: { id } })
          const sql = yield* Effect.provide(SqlClient.SqlClient, ctx)
          const [row] = yield* sql<{ until: number }>`
            SELECT (extract(epoch FROM collected_until) * 1000)::float8 AS until
            FROM datahub.provider_subscription WHERE id = ${id}`
          const until = row!.until
          const holes = [
            [from, from + 10 * MINUTE],
            [from + 600 * MINUTE, from + 607 * MINUTE],
            [until - 5 * MINUTE, until]
          ] as const
          for (const [a, b] of holes)
            yield* sql`DELETE FROM datahub.historical_data WHERE provider = 'synthetic' AND symbol = 'SYN/USD'
              AND timeframe = '1m' AND ts >= to_timestamp(${a / 1000}) AND ts < to_timestamp(${b / 1000})`

          const holed = yield* client.subscriptions.coverage({ path: { id } })
          expect(ms(holed.first!)).toBe(from + 10 * MINUTE)
          expect(holed.gaps.map((g) => [ms(g.from), ms(g.to), g.missing])).toEqual(
            holes.map(([a, b]) => [a, b, (b - a) / MINUTE])
          )

          yield* client.subscriptions.resume({ path: { id } })
          const repaired = yield* eventually(
            "the gaps are filled",
            client.subscriptions.coverage({ path: { id } }),
            (c) => c.gaps.length === 0,
            "30 seconds"
          )
          expect(ms(repaired.first!)).toBe(from)
          const last = ms(repaired.last!)
          const truth = barsBetween({ seed: 3 }, "SYN/USD", "1m", from, last + MINUTE)
          // Up to the coverage's last bar: on the accelerated clock the next one may be in by now.
          const stored = (yield* Effect.provide(storedBars("synthetic", "SYN/USD", "1m"), ctx)).filter(
            (b) => b.ts <= last
          )
          expect(stored.map((b) => b.ts)).toEqual(truth.map((b) => b.ts))
          expect(stored.map((b) => b.close)).toEqual(truth.map((b) => b.close))
          const sub = yield* eventually(
            "the subscription is current again",
            client.subscriptions.get({ path: { id } }),
            (s) => s.state.status === "current"
          )
          expect(sub.state.backfillProgress).toBe(100)
        })
      ),
    90_000
  )
})
