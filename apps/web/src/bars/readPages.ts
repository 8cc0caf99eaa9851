/**
 * Reads a bars query page after page until its last page or `MAX_CHART_BARS`, for a chart. The
 * caller's `current` says whether the reading is still wanted (a newer one supersedes it).
 */
import type { BarPoint } from "@quasar/domain"
import type { Outcome } from "../composables/useApi"

/** Charts hold at most this many bars; a longer range is cut there (and says so). */
export const MAX_CHART_BARS = 50_000

/** What a page of the bars query holds that matters here. */
export interface PageOfBars {
  readonly bars: ReadonlyArray<BarPoint>
  readonly nextCursor: string | null
}

export interface PagesRead {
  readonly bars: ReadonlyArray<BarPoint>
  readonly error: string | null
  /** Bars remain after the last page read (the chart's limit cut the range). */
  readonly truncated: boolean
}

export const readPages = async (
  page: (cursor: string | null) => Promise<Outcome<PageOfBars | string>>,
  current: () => boolean,
  onProgress: (loaded: number) => void = () => {}
): Promise<PagesRead | undefined> => {
  const all: Array<BarPoint> = []
  let cursor: string | null = null
  do {
    const outcome = await page(cursor)
    if (!current()) return undefined
    if (!outcome.ok) return { bars: all, error: outcome.failure.message, truncated: false }
    if (typeof outcome.value === "string")
      return { bars: all, error: "DataHub answered CSV where JSON was asked for", truncated: false }
    all.push(...outcome.value.bars)
    onProgress(all.length)
    cursor = outcome.value.nextCursor
  } while (cursor !== null && all.length < MAX_CHART_BARS)
  return { bars: all, error: null, truncated: cursor !== null }
}
