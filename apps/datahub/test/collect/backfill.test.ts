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
  eventually,
  MINUTE,
  SourceLog,
  storedBars,
  subscribeSynthetic,
  untilBackfilled
} from "./support"

const ms = (t: DateTime.Utc | null) => (t === null ? null : DateTime.toEpochMillis(t))

describe("history backfill with the synthetic provider", () => {
  it.live(
    "a backfill over many pages stores every bar once, then runs after each bar closes",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          // 1m bars close every 2 s of wall time.
          const { clock, now } = acceleratedClock(30)
          const log = new SourceLog()
          const app = collectingApp({
            databaseUrl: yield* TestDatabase.fresh,
            source: inProcessBarSource([synthetic], { synthetic: { symbols: "SYN/USD", seed: 42 } }, now),
            log,
            config: { clock, maxBarsPerRun: 3_000, marginMs: 1_000 }
          })
          const ctx = yield* Layer.build(app)
          const client = yield* Effect.provide(adminClient, ctx)
          const from = Timeframe.barOpen("1m", now() - 5 * 1_440 * MINUTE)

          const created = yield* subscribeSynthetic(client, from)
          expect(created.state.status).toBe("backfilling")
          const id = created.id

          const current = yield* untilBackfilled(client, id, "30 seconds")
          expect(current.state.backfillProgress).toBe(100)
          expect(current.state.lastError).toBeNull()
          const lastBar = ms(current.state.lastBarAt)!
          const truth = barsBetween({ seed: 42 }, "SYN/USD", "1m", from, lastBar + MINUTE)
          expect(truth.length).toBeGreaterThanOrEqual(7_200)
          // The subscription goes on collecting each bar that closes: compare up to the one read.
          const stored = (yield* Effect.provide(storedBars("synthetic", "SYN/USD", "1m"), ctx)).filter(
            (b) => b.ts <= lastBar
          )
          expect(stored.map((b) => b.ts)).toEqual(truth.map((b) => b.ts))
          expect(stored.map((b) => b.close)).toEqual(truth.map((b) => b.close))
          expect(log.repeated()).toBe(0)

          // Several bounded runs, each starting where the previous one ended, none retried.
          const runs = yield* Effect.provide(collectionRuns(id), ctx)
          const backfills = runs.filter((r) => r.kind === "backfill")
          expect(backfills.length).toBeGreaterThanOrEqual(3)
          expect(backfills[0]?.from).toBe(from)
          for (let i = 1; i < backfills.length; i++) expect(backfills[i]?.from).toBe(backfills[i - 1]?.to)
          expect(backfills.every((r) => r.status === "ok" && r.retries === 0 && r.error === null)).toBe(true)

          // Bar-aligned updates: each new bar arrives once, shortly after it closes.
          const later = yield* eventually(
            "two more bars closed and were collected",
            client.subscriptions.get({ path: { id } }),
            (s) => (ms(s.state.lastBarAt) ?? 0) >= lastBar + 2 * MINUTE,
            "15 seconds"
          )
          const nextRun = ms(later.state.nextRunAt)!
          expect(nextRun).toBeGreaterThan(ms(later.state.lastBarAt)! + MINUTE)
          expect(nextRun).toBeLessThanOrEqual(ms(later.state.lastBarAt)! + 3 * MINUTE + 1_000)
          const after = yield* Effect.provide(storedBars("synthetic", "SYN/USD", "1m"), ctx)
          const newest = after.at(-1)!.ts
          expect(after.map((b) => b.close)).toEqual(
            barsBetween({ seed: 42 }, "SYN/USD", "1m", from, newest + MINUTE).map((b) => b.close)
          )
          expect(log.repeated()).toBe(0)
          const updates = (yield* Effect.provide(collectionRuns(id), ctx)).filter((r) => r.kind === "update")
          expect(updates.length).toBeGreaterThanOrEqual(2)
        })
      ),
    60_000
  )
})
