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
import { SubscriptionId, Timeframe } from "@quasar/domain"
import type { FakeKraken } from "@quasar/providers/testing"
import { TestDatabase } from "@quasar/server/testing"
import { Duration, Effect, Exit, Layer, Queue, Scope } from "effect"
import type { LiveConfigValues } from "../../src/live/LiveConfig"
import { LiveHub, type LiveUpdate } from "../../src/live/LiveHub"
import {
  acceleratedNow,
  adminClient,
  comparable,
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

const setUp = (
  options: {
    readonly beforeSubscribing?: (fake: FakeKraken) => void
    readonly config?: Partial<LiveConfigValues>
  } = {}
) =>
  Effect.gen(function* () {
    const now = acceleratedNow(T0)
    const fake = yield* fakeKraken(now, { snapshotBars: 0 })
    options.beforeSubscribing?.(fake)
    const databaseUrl = yield* TestDatabase.fresh
    const app = yield* Layer.build(liveApp(databaseUrl, fake, now, options.config))
    const ids = yield* Effect.provide(subscribeLive(SYMBOLS), app)
    return { now, fake, databaseUrl, app, ids }
  })

const reconnects = Effect.map(liveStatus, (s) => s.connections.reduce((n, c) => n + c.reconnects, 0))

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

  it.live(
    "malformed frames in the stream are skipped without a reconnect or a lost bar",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const { now, fake, app } = yield* setUp()
          yield* Effect.provide(allStoredUntil(barOpen(now()) + 2 * MINUTE), app)
          for (let i = 0; i < 6; i++) {
            fake.sendMalformed()
            fake.sendMalformed("}{ not json")
            fake.sendMalformed('{"channel":"ohlc","type":"update","data":"nope"}')
            fake.sendMalformed(
              '{"channel":"ohlc","type":"update","data":[{"symbol":"BTC/USD","interval":1}]}'
            )
            yield* Effect.sleep(250)
          }
          const end = barOpen(now()) + 3 * MINUTE
          yield* Effect.provide(allStoredUntil(end), app)
          yield* Effect.provide(allMatchTruth(fake, end, []), app)
          expect(yield* Effect.provide(reconnects, app)).toBe(0)
        })
      ),
    60_000
  )

  it.live(
    "a symbol the provider rejects puts only its subscription in error; the others stream on",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const { now, fake, app, ids } = yield* setUp({
            beforeSubscribing: (f) => f.rejectSymbol("ETH/USD")
          })
          const rejected = ids[SYMBOLS.indexOf("ETH/USD")]!
          const others = SYMBOLS.filter((s) => s !== "ETH/USD")
          const row = yield* Effect.provide(
            eventually(
              "the rejected subscription is in error",
              Effect.flatMap(adminClient, (api) =>
                api.subscriptions.get({ path: { id: SubscriptionId.make(rejected) } })
              ),
              (s) => s.state.status === "error"
            ),
            app
          )
          expect(row.state.lastError).toContain("Currency pair not supported ETH/USD")
          expect(row.state.lastError).toContain("resume the subscription")
          const end = barOpen(now()) + 4 * MINUTE
          yield* Effect.provide(allStoredUntil(end, others), app)
          yield* Effect.provide(allMatchTruth(fake, end, [], others), app)
          expect(yield* Effect.provide(storedBars("ETH/USD"), app)).toEqual([])
          const api = yield* Effect.provide(adminClient, app)
          for (const id of ids.filter((id) => id !== rejected)) {
            const sub = yield* Effect.provide(
              api.subscriptions.get({ path: { id: SubscriptionId.make(id) } }),
              app
            )
            expect(sub.state).toMatchObject({ status: "current", lastError: null })
          }
          const status = yield* Effect.provide(liveStatus, app)
          expect(status.subscriptions.map((s) => s.symbol).sort()).toEqual([...others].sort())
          expect(status.connections[0]).toMatchObject({ state: "connected", reconnects: 0 })
        })
      ),
    60_000
  )

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
          const end = barOpen(now())
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
