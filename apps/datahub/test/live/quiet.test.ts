/**
 * A minute without trades gets no candle on Kraken's WebSocket, while its REST OHLC serves it
 * (flat). A live-only series asks history for the minutes its stream skipped, so its stored bars
 * are continuous and its coverage shows no gap: a gap always means a bar is missing.
 */
import { describe, expect, it } from "@effect/vitest"
import { SubscriptionId } from "@quasar/domain"
import { TestDatabase } from "@quasar/server/testing"
import { DateTime, Effect, Layer } from "effect"
import {
  acceleratedNow,
  adminClient,
  eventually,
  expectGroundTruth,
  fakeKraken,
  liveApp,
  MINUTE,
  storedBars,
  storedUntil,
  subscribeLive
} from "./support"

const T0 = Date.UTC(2024, 0, 15, 12, 0) + 5_000

describe("live-only series have no holes for minutes without trades", () => {
  it.live(
    "minutes the WebSocket skipped are filled from history and coverage shows no gap",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const now = acceleratedNow(T0)
          const fake = yield* fakeKraken(now, { snapshotBars: 0 })
          const app = yield* Layer.build(liveApp(yield* TestDatabase.fresh, fake, now))
          const [id] = yield* Effect.provide(subscribeLive(["XBT/USD"]), app)
          const stored = yield* Effect.provide(
            eventually(
              "a first bar is stored",
              storedBars("XBT/USD"),
              (bars) => bars.length > 0,
              "40 seconds"
            ),
            app
          )
          const first = stored[0]!.ts
          // About one minute in ten has no trades: the stream alone would leave these holes. The
          // window runs past the first of them, wherever a busy machine made the stream start.
          let quiet = first
          while (fake.bar("XBT/USD", "1m", quiet).trades !== 0) quiet += MINUTE
          const end = Math.max(first + 10 * MINUTE, quiet + 3 * MINUTE)
          yield* Effect.provide(storedUntil("XBT/USD", end, "40 seconds"), app)
          const truth = fake.closedBars("XBT/USD", "1m", first, end)
          expect(truth.filter((b) => b.trades === 0).length).toBeGreaterThanOrEqual(1)
          yield* Effect.provide(
            eventually(
              "every minute up to the end is stored",
              storedBars("XBT/USD"),
              (bars) => bars.filter((b) => b.ts >= first && b.ts < end).length === truth.length,
              "20 seconds"
            ),
            app
          )
          yield* Effect.provide(expectGroundTruth(fake, "XBT/USD", first, end, [[first, end]]), app)

          const client = yield* Effect.provide(adminClient, app)
          const coverage = yield* client.subscriptions.coverage({ path: { id: SubscriptionId.make(id!) } })
          expect(coverage.gaps).toEqual([])
          expect(DateTime.toEpochMillis(coverage.first!)).toBe(first)
        })
      ),
    90_000
  )
})
