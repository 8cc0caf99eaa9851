/**
 * The live tests' shared time and timings, free of vitest so that a runner process can load them
 * too: one accelerated clock (60×: a 1m bar closes every real second) that the fake Kraken, the
 * provider and DataHub's bar arithmetic agree on, short live delays, and the Kraken provider in
 * process against a fake.
 */
import kraken from "@quasar/providers/kraken"
import { Duration, Layer } from "effect"
import { defaultLiveConfig, LiveConfig, type LiveConfigValues } from "../../src/live/LiveConfig"
import { inProcessBarSource, inProcessLiveSource } from "../../src/testing/InProcessSources"

export const SPEED = 60

/**
 * Fake time running `SPEED` times faster than real time: `t0` at the real instant `start`. Separate
 * processes given the same `t0` and `start` read the same clock.
 */
export const acceleratedNow =
  (t0: number, start = Date.now()) =>
  () =>
    t0 + (Date.now() - start) * SPEED

/** Short delays: stale after 1.5 s real (suspect after 0.5 s), reconnects from 200 ms, changes after 100 ms. */
export const testLiveConfig = (overrides: Partial<LiveConfigValues> = {}): LiveConfigValues => ({
  ...defaultLiveConfig,
  staleAfter: Duration.millis(1_500),
  suspectAfter: Duration.millis(500),
  reconnect: { baseDelay: Duration.millis(200), maxDelay: Duration.seconds(1) },
  healthyAfter: Duration.seconds(5),
  fillRetry: { maxAttempts: 3, baseDelay: Duration.millis(100), maxDelay: Duration.seconds(1) },
  changeDebounce: Duration.millis(100),
  handoverTimeout: Duration.seconds(3),
  reconcileEvery: Duration.seconds(2),
  ...overrides
})

/**
 * The Kraken provider run in this process against a fake at `restUrl` and `wsUrl`, for live
 * streams and gap fills alike, on `now`, with the short live delays. The grace period is 40 s of
 * fake time (2/3 s real), well above the fake's push period, as in the provider's tests.
 */
export const krakenInProcess = (
  fake: { readonly restUrl: string; readonly wsUrl: string },
  now: () => number,
  overrides: Partial<LiveConfigValues> = {}
) => {
  const settings = { kraken: { restUrl: fake.restUrl, wsUrl: fake.wsUrl, closeGraceMs: 40_000 } }
  return Layer.mergeAll(
    inProcessBarSource([kraken], settings, now),
    inProcessLiveSource([kraken], settings, { now }),
    Layer.succeed(LiveConfig, testLiveConfig(overrides))
  )
}
