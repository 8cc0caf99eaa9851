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
import { Duration, Effect, Queue } from "effect"
import { LiveHub, type LiveUpdate } from "../../src/live/LiveHub"
import { allMatchTruth, allStoredUntil, barOpen, intoBar, reconnects, SYMBOLS, setUp } from "./faultsSupport"
import { comparable, liveStatus, MINUTE } from "./support"

describe("live streams survive connection faults without losing a closed bar", () => {
  it.live(
    "a connection dropped mid-bar is reopened and the outage filled from history",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const { now, fake, app } = yield* setUp()
          yield* Effect.provide(allStoredUntil(barOpen(now()) + 2 * MINUTE), app)
          yield* intoBar(now, 30_000)
          const droppedAt = now()
          // Three bars of outage: every attempt to reconnect is cut again at once.
          for (let i = 0; i < 30; i++) {
            fake.dropConnections()
            yield* Effect.sleep(100)
          }
          const backAt = now()
          const end = barOpen(backAt) + 3 * MINUTE
          yield* Effect.provide(allStoredUntil(end), app)
          const outage = [[barOpen(droppedAt), barOpen(backAt)]] as const
          const counts = yield* Effect.provide(allMatchTruth(fake, end, outage), app)
          expect(Math.min(...counts)).toBeGreaterThanOrEqual(6)
          const status = yield* Effect.provide(liveStatus, app)
          expect(status.connections).toHaveLength(1)
          expect(status.connections[0]).toMatchObject({
            provider: "kraken",
            timeframe: "1m",
            state: "connected"
          })
          expect(status.connections[0]!.reconnects).toBeGreaterThanOrEqual(1)
          expect([...status.connections[0]!.symbols].sort()).toEqual([...SYMBOLS].sort())
        })
      ),
    60_000
  )

  it.live(
    "heartbeats that stop are harmless while bars flow; total silence is detected as stale and recovered",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const { now, fake, app } = yield* setUp()
          yield* Effect.provide(allStoredUntil(barOpen(now()) + 2 * MINUTE), app)
          fake.stopHeartbeats(true)
          yield* Effect.provide(allStoredUntil(barOpen(now()) + 3 * MINUTE), app)
          expect(yield* Effect.provide(reconnects, app)).toBe(0)
          // Nothing at all now (no updates, acks or pongs): longer than `staleAfter` (1.5 s).
          fake.freeze(true)
          const frozenAt = now()
          yield* Effect.sleep(3_500)
          fake.freeze(false)
          const backAt = now()
          const end = barOpen(backAt) + 3 * MINUTE
          yield* Effect.provide(allStoredUntil(end), app)
          yield* Effect.provide(allMatchTruth(fake, end, [[barOpen(frozenAt), barOpen(backAt)]]), app)
          const status = yield* Effect.provide(liveStatus, app)
          expect(status.connections[0]!.reconnects).toBeGreaterThanOrEqual(1)
          expect(status.connections[0]!.lastError).toContain("nothing received")
          expect(status.connections[0]!.state).toBe("connected")
        })
      ),
    60_000
  )

  it.live(
    "a silence too short to reconnect: bars the provider closed on its timer are read again from history",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          // Kraken closes a bar at its end + grace (2/3 s real here) even when nothing arrived, with
          // the values it last saw; the stream only counts as stale after 6 s.
          const { now, fake, app } = yield* setUp({ config: { staleAfter: Duration.seconds(6) } })
          yield* Effect.provide(allStoredUntil(barOpen(now()) + 2 * MINUTE), app)
          // What `/live` clients are sent, from before the silence on.
          const published: Array<LiveUpdate> = []
          const updates = yield* Effect.provide(
            Effect.flatMap(LiveHub, (hub) => hub.subscribe),
            app
          )
          yield* Queue.take(updates).pipe(
            Effect.tap((batch) => Effect.sync(() => published.push(...batch))),
            Effect.forever,
            Effect.forkScoped
          )
          yield* intoBar(now, 30_000)
          fake.freeze(true)
          const frozenAt = now()
          yield* Effect.sleep(2_500)
          fake.freeze(false)
          const end = barOpen(now()) + 3 * MINUTE
          yield* Effect.provide(allStoredUntil(end), app)
          yield* Effect.provide(
            allMatchTruth(fake, end, [[barOpen(frozenAt), barOpen(frozenAt) + MINUTE]]),
            app
          )
          expect(yield* Effect.provide(reconnects, app)).toBe(0)
          // Clients were sent the timer's guess for the silent bars, then their final values.
          for (const symbol of SYMBOLS) {
            const last = new Map<number, LiveUpdate["bar"]>()
            for (const u of published) if (u.closed && u.symbol === symbol) last.set(u.bar.ts, u.bar)
            for (const [ts, bar] of last)
              if (ts >= barOpen(frozenAt) && ts < end - MINUTE)
                expect(comparable(bar)).toEqual(comparable(fake.bar(symbol, "1m", ts)))
          }
        })
      ),
    60_000
  )
})
