/**
 * Live bars for a chart, in the timeframe it shows them. Bars of the stored timeframe go to the
 * chart as they are; on a resampled chart they update its newest bucket (`liveBucket`), whose
 * earlier bars are read from DataHub once, when live updates reach that bucket.
 */
import { type BarPoint, Timeframe } from "@quasar/domain"
import { watch } from "vue"
import { addLive, addStored, bucketBar, type LiveBucket } from "../bars/liveBucket"
import { type BarsView, storedBars } from "./useBars"

export const useLiveBucket = (view: () => BarsView | null, push: (bar: BarPoint) => void) => {
  let bucket: LiveBucket | null = null
  let seededOpen: number | null = null
  watch(view, () => {
    bucket = null
    seededOpen = null
  })

  const seed = async (v: BarsView, resample: Timeframe.Timeframe, open: number) => {
    seededOpen = open
    const stored = Timeframe.timeframes.find((tf) => tf === v.key.timeframe) ?? resample
    const perBucket = Timeframe.durationMs(resample) / Timeframe.durationMs(stored)
    const read = await storedBars(v.key, open, Math.ceil(perBucket))
    if (!read.ok || bucket === null || bucket.open !== open || view() !== v) return
    bucket = addStored(bucket, read.bars)
    push(bucketBar(bucket))
  }

  /** A live bar of the view's stored timeframe. */
  return (bar: BarPoint) => {
    const v = view()
    if (v === null) return
    if (v.resample === null) return push(bar)
    bucket = addLive(bucket, bar, v.resample)
    if (bucket === null) return
    push(bucketBar(bucket))
    if (seededOpen !== bucket.open) void seed(v, v.resample, bucket.open)
  }
}
