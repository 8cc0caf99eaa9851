/**
 * Deterministic market data: the bar of any (seed, symbol, timeframe, open time) is computed
 * on its own, in O(1), so any range can be produced without replaying from an origin. Prices
 * follow layered value noise (days, hours, minutes), which looks like a random walk and never
 * goes negative. Used by the synthetic provider and as the ground truth of the fake servers.
 */
import type { ProviderBar, Timeframe } from "../sdk/types"

const MINUTE = 60_000
const tfMs: Record<Timeframe, number> = {
  "1m": MINUTE,
  "5m": 5 * MINUTE,
  "15m": 15 * MINUTE,
  "30m": 30 * MINUTE,
  "1h": 60 * MINUTE,
  "4h": 240 * MINUTE,
  "1d": 1_440 * MINUTE,
  "1w": 10_080 * MINUTE
}

/** 32-bit FNV-1a of a string. */
const fnv = (s: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/** A uniform number in [0, 1) from two integers (splitmix-style avalanche). */
const hash01 = (a: number, b: number): number => {
  let x = (Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b | 0, 0xc2b2ae35)) >>> 0
  x ^= x >>> 16
  x = Math.imul(x, 0x7feb352d) >>> 0
  x ^= x >>> 15
  x = Math.imul(x, 0x846ca68b) >>> 0
  x ^= x >>> 16
  return (x >>> 0) / 4_294_967_296
}

/** Smoothly interpolated lattice noise in [-1, 1]. */
const noise = (key: number, t: number, period: number): number => {
  const x = t / period
  const i = Math.floor(x)
  const f = x - i
  const s = f * f * (3 - 2 * f)
  const a = hash01(key, i) * 2 - 1
  const b = hash01(key, i + 1) * 2 - 1
  return a + (b - a) * s
}

export interface WalkOptions {
  readonly seed: number
  /** Price level around which the walk moves (default derived from the symbol: 10–1,000). */
  readonly basePrice?: number
}

const priceAt = (key: number, base: number, t: number): number =>
  base *
  Math.exp(
    0.25 * noise(key, t, 30 * 1_440 * MINUTE) +
      0.06 * noise(key ^ 0x1234, t, 1_440 * MINUTE) +
      0.015 * noise(key ^ 0x5678, t, 60 * MINUTE) +
      0.004 * noise(key ^ 0x9abc, t, 5 * MINUTE)
  )

const round = (x: number) => Math.round(x * 1e4) / 1e4

/** The bar of `symbol` opening at `ts` (which must be aligned to `timeframe`). */
export const barAt = (
  options: WalkOptions,
  symbol: string,
  timeframe: Timeframe,
  ts: number
): ProviderBar => {
  const key = (fnv(symbol) ^ Math.imul(options.seed, 0x27d4eb2d)) >>> 0
  const base = options.basePrice ?? 10 + (fnv(`${symbol}#base`) % 99_000) / 100
  const d = tfMs[timeframe]
  const open = round(priceAt(key, base, ts))
  const close = round(priceAt(key, base, ts + d))
  const wiggle = 0.002 * Math.sqrt(d / MINUTE)
  const high = round(Math.max(open, close) * (1 + wiggle * hash01(key ^ 0x1111, ts / MINUTE)))
  const low = round(Math.min(open, close) * (1 - wiggle * hash01(key ^ 0x2222, ts / MINUTE)))
  const trades = 1 + Math.floor(hash01(key ^ 0x3333, ts / MINUTE) * 50 * (d / MINUTE))
  const volume = round(trades * (0.5 + hash01(key ^ 0x4444, ts / MINUTE)) * (1_000 / base))
  const vwap = round((open + high + low + close) / 4)
  return { ts, open, high, low, close, volume, vwap, trades }
}

/** Every bar of `symbol` with open time in [from, to), aligned to `timeframe`. */
export const barsBetween = (
  options: WalkOptions,
  symbol: string,
  timeframe: Timeframe,
  from: number,
  to: number
): Array<ProviderBar> => {
  const d = tfMs[timeframe]
  const origin = timeframe === "1w" ? 4 * 1_440 * MINUTE : 0
  const first = Math.ceil((from - origin) / d) * d + origin
  const out: Array<ProviderBar> = []
  for (let t = first; t < to; t += d) out.push(barAt(options, symbol, timeframe, t))
  return out
}

export const timeframeMs = (tf: Timeframe): number => tfMs[tf]
