/**
 * OHLCV bars. `RawBar` is what a provider yields (epoch-ms open time, plain numbers); the host
 * checks every one with `barProblem` before anything is written (`ValidBar` is the same check as a
 * schema). `BarPoint` in BarsApi.ts is what the API serves.
 */
import { Schema } from "effect"
import { MarketSymbol, ProviderName, Timestamp } from "./Common"
import { isAligned, type Timeframe, Timeframe as TimeframeSchema } from "./Timeframe"

const Finite = Schema.Number.pipe(Schema.finite())
const NonNegative = Finite.pipe(Schema.nonNegative())

export const RawBar = Schema.Struct({
  ts: Schema.Int.annotations({ description: "bar open time, UTC epoch milliseconds" }),
  open: Finite,
  high: Finite,
  low: Finite,
  close: Finite,
  volume: NonNegative,
  vwap: Schema.optional(Finite),
  trades: Schema.optional(Schema.Int.pipe(Schema.nonNegative()))
}).annotations({ identifier: "RawBar" })
export type RawBar = typeof RawBar.Type

/**
 * Why a bar must not be stored, or `undefined` when it is sound. Kept as a plain function so the
 * hot ingest path can call it without a Schema round trip; `ValidBar` wraps it for decoding.
 */
export const barProblem = (bar: RawBar, tf: Timeframe, nowMs: number): string | undefined => {
  const { open, high, low, close, volume } = bar
  if (![open, high, low, close, volume].every(Number.isFinite))
    return "a price or the volume is not a finite number"
  if (high < low) return `high ${high} is below low ${low}`
  if (open > high || open < low) return `open ${open} is outside [low ${low}, high ${high}]`
  if (close > high || close < low) return `close ${close} is outside [low ${low}, high ${high}]`
  if (volume < 0) return `volume ${volume} is negative`
  if (!Number.isSafeInteger(bar.ts)) return `open time ${bar.ts} is not an epoch-millisecond integer`
  if (!isAligned(tf, bar.ts)) return `open time ${new Date(bar.ts).toISOString()} is not aligned to ${tf}`
  if (bar.ts > nowMs) return `open time ${new Date(bar.ts).toISOString()} is in the future`
  return undefined
}

/** A provider bar that is sound for the given timeframe at `nowMs`. */
export const ValidBar = (tf: Timeframe, nowMs: number) =>
  RawBar.pipe(Schema.filter((bar) => barProblem(bar, tf, nowMs)))

/** A stored bar as the API serves it. */
export class Bar extends Schema.Class<Bar>("Bar")({
  provider: ProviderName,
  symbol: MarketSymbol,
  timeframe: TimeframeSchema,
  ts: Timestamp,
  open: Finite,
  high: Finite,
  low: Finite,
  close: Finite,
  volume: NonNegative,
  vwap: Schema.optional(Finite),
  trades: Schema.optional(Schema.Int)
}) {}
