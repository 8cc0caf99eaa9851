import { describe, expect, it } from "@effect/vitest"
import { ProviderName, Timeframe } from "@quasar/domain"
import eodhd from "@quasar/providers/eodhd"
import kraken from "@quasar/providers/kraken"
import { type FakeEodhd, type FakeKraken, startFakeEodhd, startFakeKraken } from "@quasar/providers/testing"
import { TestDatabase } from "@quasar/server/testing"
import { DateTime, Effect, Layer } from "effect"
import type { CollectionConfigValues } from "../../src/collect/CollectionConfig"
import { inProcessBarSource } from "../../src/testing/InProcessSources"
import {
  adminClient,
  collectingApp,
  collectionRuns,
  eventually,
  loopClock,
  MINUTE,
  runningLoops,
  seriesState,
  storedBars
} from "./support"

const HOUR = 60 * MINUTE

const fakeKraken = Effect.acquireRelease(
  Effect.promise(() => startFakeKraken({ pageRows: 240 })),
  (fake) => Effect.promise(() => fake.close())
)
const fakeEodhd = Effect.acquireRelease(
  Effect.promise(() => startFakeEodhd({ validTokens: ["good-token"] })),
  (fake) => Effect.promise(() => fake.close())
)

const krakenApp = (fake: FakeKraken, config: Partial<CollectionConfigValues> = {}) =>
  Effect.flatMap(TestDatabase.fresh, (databaseUrl) =>
    Layer.build(
      collectingApp({
        databaseUrl,
        source: inProcessBarSource([kraken], { kraken: { restUrl: fake.restUrl, wsUrl: fake.wsUrl } }),
        config
      })
    )
  )

const eodhdApp = (fake: FakeEodhd, apiToken: string) =>
  Effect.flatMap(TestDatabase.fresh, (databaseUrl) =>
    Layer.build(
      collectingApp({
        databaseUrl,
        source: inProcessBarSource([eodhd], { eodhd: { apiToken, baseUrl: fake.baseUrl } })
      })
    )
  )

const subscribe = (provider: string, symbol: string, timeframe: Timeframe.Timeframe, from: number) =>
  Effect.flatMap(adminClient, (client) =>
    client.subscriptions.create({
      payload: {
        provider: ProviderName.make(provider),
        symbol,
        timeframes: [timeframe],
        mode: "history",
        backfillFrom: DateTime.unsafeMake(from)
      }
    })
  ).pipe(Effect.map(([sub]) => sub!.id))

describe("collection against the fake Kraken and EODHD", () => {
  it.live(
    "Kraken rate limits (EAPI:Rate limit exceeded) are retried and the backfill completes",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const fake = yield* fakeKraken
          const app = yield* krakenApp(fake)
          const from = Timeframe.barOpen("1m", Date.now() - 600 * MINUTE)
          fake.restError("EAPI:Rate limit exceeded", 2)
          const id = yield* Effect.provide(subscribe("kraken", "XBT/USD", "1m", from), app)
          const done = yield* Effect.provide(
            eventually("the backfill is done", seriesState(id), (s) => s.status === "current", "30 seconds"),
            app
          )
          // Only up to what was read as collected: a current subscription goes on with each minute that closes.
          const stored = (yield* Effect.provide(storedBars("kraken", "XBT/USD", "1m"), app)).filter(
            (b) => b.ts <= done.lastBarAt!
          )
          const truth = fake.closedBars("XBT/USD", "1m", from, done.lastBarAt! + MINUTE)
          expect(truth.length).toBeGreaterThanOrEqual(595)
          expect(stored.map((b) => b.ts)).toEqual(truth.map((b) => b.ts))
          expect(stored.map((b) => b.close)).toEqual(truth.map((b) => b.close))
          const [first] = yield* Effect.provide(collectionRuns(id), app)
          expect(first).toMatchObject({ kind: "backfill", status: "ok", retries: 2, error: null })
        })
      ),
    60_000
  )

  it.live(
    "an unknown Kraken pair puts the subscription in error with the reason, without retrying",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const fake = yield* fakeKraken
          const clock = yield* loopClock
          const app = yield* krakenApp(fake, { clock })
          const id = yield* Effect.provide(subscribe("kraken", "NOPE/USD", "1h", Date.now() - 24 * HOUR), app)
          const failed = yield* Effect.provide(
            eventually("the subscription is in error", seriesState(id), (s) => s.status === "error"),
            app
          )
          expect(failed.lastError).toContain("NOPE/USD")
          // Its loop has stopped: however long the loops' clock runs on, nothing more is asked.
          expect(yield* Effect.provide(runningLoops, app)).not.toContain(id)
          const requests = fake.stats.restRequests
          yield* clock.adjust("1 day")
          expect(fake.stats.restRequests).toBe(requests)
          const runs = yield* Effect.provide(collectionRuns(id), app)
          expect(runs).toHaveLength(1)
          expect(runs[0]).toMatchObject({ status: "failed", retries: 0 })
        })
      ),
    60_000
  )

  it.live(
    "a bad EODHD token is fatal after one request; EODHD 429s are retried after Retry-After",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const fake = yield* fakeEodhd
          const from = Timeframe.barOpen("1h", Date.now() - 5 * 24 * HOUR)

          const bad = yield* eodhdApp(fake, "wrong-token")
          const refused = yield* Effect.provide(subscribe("eodhd", "AAPL.US", "1h", from), bad)
          const failed = yield* Effect.provide(
            eventually("the subscription is in error", seriesState(refused), (s) => s.status === "error"),
            bad
          )
          expect(failed.lastError).toContain("API token")
          expect(fake.requestCount("intraday")).toBe(1)

          fake.reset()
          fake.rateLimit(2, 1)
          const good = yield* eodhdApp(fake, "good-token")
          const id = yield* Effect.provide(subscribe("eodhd", "AAPL.US", "1h", from), good)
          const done = yield* Effect.provide(
            eventually("the backfill is done", seriesState(id), (s) => s.status === "current", "30 seconds"),
            good
          )
          const stored = yield* Effect.provide(storedBars("eodhd", "AAPL.US", "1h"), good)
          const truth = fake.bars("AAPL.US", "1h", from, done.collectedUntil!)
          expect(truth.length).toBeGreaterThan(0)
          expect(stored.map((b) => b.ts)).toEqual(truth.map((b) => b.ts))
          const [first] = yield* Effect.provide(collectionRuns(id), good)
          expect(first).toMatchObject({ status: "ok", retries: 2 })
        })
      ),
    60_000
  )
})
