/**
 * Live streams against the fake Kraken's faults, on an accelerated clock (a 1m bar closes every
 * real second). Every case ends the same way: the closed bars in `historical_data` are counted
 * against the fake's ground truth — every bar that traded is stored (none lost), every stored
 * bar has its final values (none wrong; the primary key rules out duplicates), and the bars of
 * the outage, no-trade minutes included, came from the gap fill — and the stream is back by
 * itself. The fake sends no snapshot history on subscribing, so only the gap fill can recover
 * what an outage missed.
 */
import { describe, expect, it } from "@effect/vitest"
import { SubscriptionId } from "@quasar/domain"
import { TestDatabase } from "@quasar/server/testing"
import { Effect, Exit, Layer, Scope } from "effect"
import {
  allMatchTruth,
  allStoredUntil,
  barOpen,
  intoBar,
  reconnects,
  SYMBOLS,
  setUp,
  T0
} from "./faultsSupport"
import {
  acceleratedNow,
  adminClient,
  eventually,
  fakeKraken,
  liveApp,
  liveStatus,
  MINUTE,
  storedBars,
  subscribeLive
} from "./support"

describe("live streams survive DataHub restarts and subscription changes without losing a closed bar", () => {
  it.live(
    "DataHub stopped while streaming and started again on the same database fills the downtime",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const now = acceleratedNow(T0)
          const fake = yield* fakeKraken(now, { snapshotBars: 0 })
          const databaseUrl = yield* TestDatabase.fresh
          const firstLife = yield* Scope.make()
          const first = yield* Layer.buildWithScope(liveApp(databaseUrl, fake, now), firstLife)
          yield* Effect.provide(subscribeLive(SYMBOLS), first)
          yield* Effect.provide(allStoredUntil(barOpen(now()) + 2 * MINUTE), first)
          yield* intoBar(now, 20_000)
          yield* Scope.close(firstLife, Exit.void)
          const stoppedAt = now()
          yield* Effect.sleep(3_000)
          const second = yield* Layer.build(liveApp(databaseUrl, fake, now))
          const backAt = now()
          const end = barOpen(backAt) + 3 * MINUTE
          yield* Effect.provide(allStoredUntil(end), second)
          yield* Effect.provide(allMatchTruth(fake, end, [[barOpen(stoppedAt), barOpen(backAt)]]), second)
          const status = yield* Effect.provide(liveStatus, second)
          expect(status.connections[0]).toMatchObject({ state: "connected", reconnects: 0 })
          expect(status.subscriptions.every((s) => s.lastClosedBarAt !== null)).toBe(true)
        })
      ),
    60_000
  )

  it.live(
    "subscriptions added and removed at runtime leave the others streaming, without a reconnect",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const { now, fake, app, ids } = yield* setUp()
          yield* Effect.provide(allStoredUntil(barOpen(now()) + 2 * MINUTE), app)
          const [added] = yield* Effect.provide(subscribeLive(["DOGE/USD"]), app)
          const addedAt = now()
          yield* Effect.provide(allStoredUntil(barOpen(addedAt) + 3 * MINUTE, [...SYMBOLS, "DOGE/USD"]), app)
          // The others went on across the switch to the connection with the new set.
          // Checked up to a bar every series has stored past: one closing this very moment may
          // not be written yet.
          const end = barOpen(now())
          yield* Effect.provide(allStoredUntil(end), app)
          yield* Effect.provide(allMatchTruth(fake, end, []), app)
          const status = yield* Effect.provide(liveStatus, app)
          expect(status.connections).toHaveLength(1)
          expect(status.connections[0]).toMatchObject({ state: "connected", reconnects: 0 })
          expect([...status.connections[0]!.symbols].sort()).toEqual([...SYMBOLS, "DOGE/USD"].sort())
          // Removing one stops its bars; the others are untouched.
          const api = yield* Effect.provide(adminClient, app)
          yield* Effect.provide(
            api.subscriptions.remove({ path: { id: SubscriptionId.make(ids[0]!) }, urlParams: {} }),
            app
          )
          yield* Effect.provide(
            eventually("the removed series is no longer live", liveStatus, (s) =>
              s.subscriptions.every((x) => x.symbol !== SYMBOLS[0])
            ),
            app
          )
          const lastOfRemoved = (yield* Effect.provide(storedBars(SYMBOLS[0]!), app)).at(-1)?.ts ?? 0
          const later = barOpen(now()) + 3 * MINUTE
          yield* Effect.provide(allStoredUntil(later, [...SYMBOLS.slice(1), "DOGE/USD"]), app)
          const afterRemoval = (yield* Effect.provide(storedBars(SYMBOLS[0]!), app)).at(-1)?.ts ?? 0
          expect(afterRemoval).toBeLessThanOrEqual(lastOfRemoved + MINUTE)
          yield* Effect.provide(allMatchTruth(fake, later, [], SYMBOLS.slice(1)), app)
          expect(yield* Effect.provide(reconnects, app)).toBe(0)
          expect(added).toBeGreaterThan(0)
        })
      ),
    60_000
  )
})
