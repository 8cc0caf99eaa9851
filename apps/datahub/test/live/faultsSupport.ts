import { Timeframe } from "@quasar/domain"
import type { FakeKraken } from "@quasar/providers/testing"
import { TestDatabase } from "@quasar/server/testing"
import { Effect, Layer } from "effect"
import type { LiveConfigValues } from "../../src/live/LiveConfig"
import {
  acceleratedNow,
  expectGroundTruth,
  fakeKraken,
  liveApp,
  liveStatus,
  MINUTE,
  storedBars,
  storedUntil,
  subscribeLive
} from "./support"

export const T0 = Date.UTC(2024, 0, 15, 12, 0) + 5_000
export const SYMBOLS = ["XBT/USD", "ETH/USD", "SOL/USD"]
export const barOpen = (t: number) => Timeframe.barOpen("1m", t)

/** Real milliseconds until the accelerated clock is `offset` (fake ms) into a bar. */
export const intoBar = (now: () => number, offset: number) =>
  Effect.sleep(((offset - (now() % MINUTE) + MINUTE) % MINUTE) / 60)

/** Every series has a stored closed bar opening at or after `ts`. */
export const allStoredUntil = (ts: number, symbols: ReadonlyArray<string> = SYMBOLS) =>
  Effect.forEach(symbols, (s) => storedUntil(s, ts), { discard: true })

/** Ground truth for every series from its first stored bar up to `to`. */
export const allMatchTruth = (
  fake: Parameters<typeof expectGroundTruth>[0],
  to: number,
  filled: ReadonlyArray<readonly [number, number]>,
  symbols: ReadonlyArray<string> = SYMBOLS
) =>
  Effect.forEach(symbols, (s) =>
    Effect.flatMap(storedBars(s), (bars) => expectGroundTruth(fake, s, bars[0]!.ts, to, filled))
  )

export const setUp = (
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

export const reconnects = Effect.map(liveStatus, (s) => s.connections.reduce((n, c) => n + c.reconnects, 0))
