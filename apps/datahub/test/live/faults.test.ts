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
import { Timeframe } from "@quasar/domain"
import { TestDatabase } from "@quasar/server/testing"
import { Effect, Exit, Layer, Scope } from "effect"
import {
  acceleratedNow,
  eventually,
  expectGroundTruth,
  fakeKraken,
  liveApp,
  liveStatus,
  MINUTE,
  storedBars,
  storedUntil,
  subscribeLive
} from "./support"

const T0 = Date.UTC(2024, 0, 15, 12, 0) + 5_000
const SYMBOLS = ["XBT/USD", "ETH/USD", "SOL/USD"]
const barOpen = (t: number) => Timeframe.barOpen("1m", t)

/** Real milliseconds until the accelerated clock is `offset` (fake ms) into a bar. */
const intoBar = (now: () => number, offset: number) =>
  Effect.sleep(((offset - (now() % MINUTE) + MINUTE) % MINUTE) / 60)

/** Every series has a stored closed bar opening at or after `ts`. */
const allStoredUntil = (ts: number, symbols: ReadonlyArray<string> = SYMBOLS) =>
  Effect.forEach(symbols, (s) => storedUntil(s, ts), { discard: true })

/** Ground truth for every series from its first stored bar up to `to`. */
const allMatchTruth = (
  fake: Parameters<typeof expectGroundTruth>[0],
  to: number,
  filled: ReadonlyArray<readonly [number, number]>,
  symbols: ReadonlyArray<string> = SYMBOLS
) =>
  Effect.forEach(symbols, (s) =>
    Effect.flatMap(storedBars(s), (bars) => expectGroundTruth(fake, s, bars[0]!.ts, to, filled))
  )

const setUp = (options: { readonly symbols?: ReadonlyArray<string> } = {}) =>
  Effect.gen(function* () {
    const now = acceleratedNow(T0)
    const fake = yield* fakeKraken(now, { snapshotBars: 0 })
    const databaseUrl = yield* TestDatabase.fresh
    const app = yield* Layer.build(liveApp(databaseUrl, fake, now))
    const ids = yield* Effect.provide(subscribeLive(options.symbols ?? SYMBOLS), app)
    return { now, fake, databaseUrl, app, ids }
  })

describe("live streams survive provider faults without losing a closed bar", () => {
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
          expect(status.connections[0]).toMatchObject({ provider: "kraken", timeframe: "1m", state: "connected" })
          expect(status.connections[0]!.reconnects).toBeGreaterThanOrEqual(1)
          expect([...status.connections[0]!.symbols].sort()).toEqual([...SYMBOLS].sort())
        })
      ),
    60_000
  )
})
