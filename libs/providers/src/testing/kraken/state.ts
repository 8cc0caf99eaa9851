/** What the fake's REST and WS halves share: clock, market, configuration, faults, counters. */
import type { FakeMarket } from "./market"
import type { FakePairs } from "./pairs"

export interface FakeConfig {
  /**
   * Rows Kraken keeps per interval, the unfinished one included
   * (docs.kraken.com/api/docs/rest-api/get-ohlc-data: 720).
   */
  readonly maxRows: number
  /** Committed rows per OHLC response (Kraken: all of them; lower it to make tests page). */
  readonly pageRows: number
  /** Past bars with trades in an `ohlc` snapshot, besides the forming one. */
  readonly snapshotBars: number
  /**
   * Each tick's entries of all subscriptions in `update` frames of up to 200 entries, instead of
   * one frame per subscription.
   */
  readonly batchUpdates: boolean
  /**
   * Forming bars in updates carry the real time they were sent (`Date.now() % 1e9`) as `trades`,
   * so a benchmark can tell how long an update took to reach the database. Closed values are untouched.
   */
  readonly stampSentAt: boolean
}

export interface FakeFaults {
  /** WS v2 symbols whose subscriptions are refused. */
  readonly rejected: Set<string>
  /** Served one per REST request, in order, before any normal answer. */
  readonly restFailures: Array<{ readonly error: string } | { readonly status: number }>
  slowMs: number
  heartbeatsStopped: boolean
  /** Nothing at all is sent on any socket (updates, heartbeats, acks, pongs). */
  frozen: boolean
}

export interface FakeStats {
  connections: number
  subscribeRequests: number
  unsubscribeRequests: number
  pings: number
  restRequests: number
  /** `ohlc` entries pushed in updates (forming and final), for load tests' updates/s. */
  updatesSent: number
  /** With `stampSentAt`: the stamp (`trades`) of the last update frame sent, or 0. */
  lastStamp: number
  /** How many pairs' forming bars carried `lastStamp` (pairs without trades this minute get none). */
  lastStampPairs: number
}

export interface FakeState {
  readonly now: () => number
  readonly market: FakeMarket
  readonly pairs: FakePairs
  readonly config: FakeConfig
  readonly faults: FakeFaults
  readonly stats: FakeStats
}

export const noFaults = (): FakeFaults => ({
  rejected: new Set(),
  restFailures: [],
  slowMs: 0,
  heartbeatsStopped: false,
  frozen: false
})

export const zeroStats = (): FakeStats => ({
  connections: 0,
  subscribeRequests: 0,
  unsubscribeRequests: 0,
  pings: 0,
  restRequests: 0,
  updatesSent: 0,
  lastStamp: 0,
  lastStampPairs: 0
})

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** RFC 3339 with `digits` fractional digits, as Kraken prints them (µs in acks, ns in `interval_begin`). */
const format = (ms: number, digits: 6 | 9): string =>
  new Date(ms).toISOString().replace(/\.(\d{3})Z$/, (_, frac: string) => `.${frac.padEnd(digits, "0")}Z`)

/** The last few formatted times: every entry of a tick carries the same interval_begin. */
const formatted = new Map<string, string>()

export const rfc3339 = (ms: number, digits: 6 | 9): string => {
  const key = `${ms}|${digits}`
  let text = formatted.get(key)
  if (text === undefined) {
    if (formatted.size > 1_000) formatted.clear()
    text = format(ms, digits)
    formatted.set(key, text)
  }
  return text
}
