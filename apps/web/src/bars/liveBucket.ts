/**
 * A resampled chart's newest bar, kept up to date from live bars of the stored timeframe: the
 * bars of the newest bucket by open time (a forming bar replaces its earlier versions), and their
 * aggregate by the rules DataHub resamples with (open of the first, close of the last, highest
 * high, lowest low, summed volume and trades, volume-weighted vwap; vwap and trades null when a
 * bar lacks them; volume and vwap rounded to RESAMPLED_SIGNIFICANT_DIGITS). The stored bars of
 * that bucket, read once live updates start, fill in what came before them.
 */
import { type BarPoint, RESAMPLED_SIGNIFICANT_DIGITS, Timeframe } from "@quasar/domain"

export interface LiveBucket {
  /** Open time of the bucket (epoch ms). */
  readonly open: number
  /** Its bars by open time. */
  readonly bars: ReadonlyMap<number, BarPoint>
}

const timeOf = (bar: BarPoint) => Date.parse(bar.ts)
const rounded = (x: number) => Number(x.toPrecision(RESAMPLED_SIGNIFICANT_DIGITS))

/** The bucket after a live bar arrives: a newer bucket starts over, an older one is left alone. */
export const addLive = (
  bucket: LiveBucket | null,
  bar: BarPoint,
  resample: Timeframe.Timeframe
): LiveBucket | null => {
  const open = Timeframe.barOpen(resample, timeOf(bar))
  if (bucket !== null && open < bucket.open) return bucket
  const bars = new Map(bucket !== null && open === bucket.open ? bucket.bars : [])
  bars.set(timeOf(bar), bar)
  return { open, bars }
}

/** The bucket with the stored bars read for it; bars that came live since are newer and stay. */
export const addStored = (bucket: LiveBucket, stored: ReadonlyArray<BarPoint>): LiveBucket => {
  const bars = new Map(bucket.bars)
  for (const bar of stored) {
    const ts = timeOf(bar)
    if (ts >= bucket.open && !bars.has(ts)) bars.set(ts, bar)
  }
  return { open: bucket.open, bars }
}

/** The bucket as one bar, as DataHub would resample it. */
export const bucketBar = (bucket: LiveBucket): BarPoint => {
  const bars = [...bucket.bars.entries()].sort(([a], [b]) => a - b).map(([, bar]) => bar)
  const first = bars[0]
  const last = bars.at(-1)
  if (first === undefined || last === undefined) throw new Error("a live bucket holds at least one bar")
  let volume = 0
  let weighted = 0
  let trades = 0
  for (const b of bars) {
    volume += b.volume
    weighted += (b.vwap ?? 0) * b.volume
    trades += b.trades ?? 0
  }
  return {
    ts: new Date(bucket.open).toISOString(),
    open: first.open,
    high: Math.max(...bars.map((b) => b.high)),
    low: Math.min(...bars.map((b) => b.low)),
    close: last.close,
    volume: volume === 0 ? 0 : rounded(volume),
    vwap: bars.every((b) => b.vwap !== null) && volume > 0 ? rounded(weighted / volume) : null,
    trades: bars.every((b) => b.trades !== null) ? trades : null
  }
}
