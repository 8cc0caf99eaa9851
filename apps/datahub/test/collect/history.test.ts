import { describe, expect, it } from "@effect/vitest"
import { ProviderName, Timeframe } from "@quasar/domain"
import kraken from "@quasar/providers/kraken"
import { startFakeKraken } from "@quasar/providers/testing"
import { TestDatabase } from "@quasar/server/testing"
import { DateTime, Effect, Layer } from "effect"
import { inProcessBarSource } from "../../src/testing/InProcessSources"
import { adminClient, collectingApp, eventually, MINUTE, seriesState } from "./support"

describe("why are bars missing", () => {
  it.live(
    "a provider outage leaves a gap, and the collection history names the range, the retries and the error",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const fake = yield* Effect.acquireRelease(
            Effect.promise(() => startFakeKraken({ pageRows: 240 })),
            (f) => Effect.promise(() => f.close())
          )
          const app = yield* Effect.flatMap(TestDatabase.fresh, (databaseUrl) =>
            Layer.build(
              collectingApp({
                databaseUrl,
                source: inProcessBarSource([kraken], {
                  kraken: { restUrl: fake.restUrl, wsUrl: fake.wsUrl }
                })
              })
            )
          )
          const from = Timeframe.barOpen("1m", Date.now() - 300 * MINUTE)
          // Kraken answers "unavailable" (HTTP 200 with an error array) to every request for a while.
          fake.restError("EService:Unavailable", 1_000)
          const client = yield* Effect.provide(adminClient, app)
          const [sub] = yield* client.subscriptions.create({
            payload: {
              provider: ProviderName.make("kraken"),
              symbol: "XBT/USD",
              timeframes: ["1m"],
              mode: "history",
              backfillFrom: DateTime.unsafeMake(from)
            }
          })
          const id = sub!.id
          yield* Effect.provide(
            eventually(
              "the first run has failed",
              seriesState(id),
              (s) => s.lastError !== null,
              "30 seconds"
            ),
            app
          )

          const t1 = DateTime.unsafeMake(from + 60 * MINUTE)
          const t2 = DateTime.unsafeMake(from + 120 * MINUTE)
          const history = yield* client.collection.history({
            urlParams: {
              provider: ProviderName.make("kraken"),
              symbol: "XBT/USD",
              timeframe: "1m",
              from: t1,
              to: t2
            }
          })
          expect(history.stored).toBe(0)
          const failed = history.runs.find((r) => r.status === "failed")
          expect(failed).toBeDefined()
          expect(failed).toMatchObject({ kind: "backfill", rows: 0, subscription: id })
          expect(failed!.retries).toBeGreaterThan(0)
          expect(failed!.error).toContain("EService:Unavailable")
          expect(DateTime.toEpochMillis(failed!.from)).toBeLessThanOrEqual(from + 60 * MINUTE)
          expect(DateTime.toEpochMillis(failed!.to)).toBeGreaterThanOrEqual(from + 120 * MINUTE)

          // Operators see the same on /metrics.
          const metrics = yield* client.health.metrics()
          expect(metrics).toMatch(/quasar_collection_runs_total\{[^}]*outcome="failed"[^}]*\} [1-9]/)

          // The outage ends: the next run fills the range, and the history shows that too.
          fake.reset()
          yield* Effect.provide(
            eventually("the backfill is done", seriesState(id), (s) => s.status === "current", "60 seconds"),
            app
          )
          const after = yield* client.collection.history({
            urlParams: {
              provider: ProviderName.make("kraken"),
              symbol: "XBT/USD",
              timeframe: "1m",
              from: t1,
              to: t2
            }
          })
          expect(after.stored).toBe(
            fake.closedBars("XBT/USD", "1m", from + 60 * MINUTE, from + 120 * MINUTE).length
          )
          expect(after.runs.some((r) => r.status === "ok" && r.rows > 0)).toBe(true)
          expect(yield* client.health.metrics()).toMatch(
            /quasar_bars_written_total\{target="historical"\} [1-9]/
          )
        })
      ),
    120_000
  )
})
