/**
 * Which timeframe the explorer charts a range in. A chart fits a range only while its bars stay
 * a pixel or two wide: a week of 1-minute bars is 10,080 candles, of which a 1,200-pixel chart
 * showed about a day and a half. So a long range is resampled (DataHub aggregates stored bars) to
 * the smallest timeframe that keeps it within `CHART_TARGET_BARS`.
 */
import { Timeframe } from "@quasar/domain"

/** About one bar per pixel of a wide chart: candles stay visible and the whole range fits. */
export const CHART_TARGET_BARS = 1_500

/** The timeframes stored bars of `stored` can be shown in: itself and its whole multiples. */
export const chartTimeframes = (stored: Timeframe.Timeframe): ReadonlyArray<Timeframe.Timeframe> =>
  Timeframe.timeframes.filter((tf) => tf === stored || Timeframe.divides(stored, tf))

/**
 * The smallest of `chartTimeframes(stored)` that shows `spanMs` in at most `target` bars; the
 * largest one when none does.
 */
export const chartTimeframe = (
  stored: Timeframe.Timeframe,
  spanMs: number,
  target = CHART_TARGET_BARS
): Timeframe.Timeframe => {
  const usable = chartTimeframes(stored)
  return usable.find((tf) => spanMs / Timeframe.durationMs(tf) <= target) ?? usable.at(-1) ?? stored
}
