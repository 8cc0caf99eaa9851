/**
 * Columns of epoch-ms times and values as the points lightweight-charts draws (seconds, strictly
 * increasing): a later point with the same second replaces the earlier one, since the chart
 * refuses duplicate times.
 */
import type { UTCTimestamp } from "lightweight-charts"

export interface ChartPoint {
  readonly time: UTCTimestamp
  readonly value: number
}

export const chartPoints = (ts: ArrayLike<number>, values: ArrayLike<number>): Array<ChartPoint> => {
  const out: Array<ChartPoint> = []
  const n = Math.min(ts.length, values.length)
  for (let i = 0; i < n; i++) {
    const time = Math.floor((ts[i] ?? 0) / 1000) as UTCTimestamp
    const point = { time, value: values[i] ?? 0 }
    const last = out.at(-1)
    if (last !== undefined && last.time >= time) {
      if (last.time === time) out[out.length - 1] = point
      continue
    }
    out.push(point)
  }
  return out
}

/** Points a line chart draws at most: a million-bar run is thinned to this many, the last one kept. */
export const MAX_LINE_POINTS = 20_000

/** Every k-th point (k chosen so at most `max` remain), and the last point, always drawn. */
export const thinned = <A>(points: ReadonlyArray<A>, max = MAX_LINE_POINTS): ReadonlyArray<A> => {
  if (points.length <= max) return points
  const step = Math.ceil(points.length / max)
  const out = points.filter((_, i) => i % step === 0)
  const last = points.at(-1)
  if (last !== undefined && (points.length - 1) % step !== 0) out.push(last)
  return out
}
