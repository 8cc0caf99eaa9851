/**
 * Stored bars for one view (series, range, and the timeframe they are shown in: the stored one or
 * a larger one DataHub resamples to), fetched page by page (cursor) with the count so far as
 * progress, up to `MAX_CHART_BARS`; and the series' coverage (first, last, count, gaps) from its
 * subscription, when it has one.
 */
import { type BarPoint, BarsQuery, type Coverage, type Subscription, type Timeframe } from "@quasar/domain"
import { Effect, Schema } from "effect"
import { ref } from "vue"
import { readPages } from "../bars/readPages"
import { datahub } from "./useApi"

export interface SeriesKey {
  readonly provider: string
  readonly symbol: string
  readonly timeframe: string
}

/** What the chart shows: a series, its range (epoch ms, null for open ends) and the timeframe of its bars. */
export interface BarsView {
  readonly key: SeriesKey
  readonly fromMs: number | null
  readonly toMs: number | null
  /** A timeframe larger than the stored one to aggregate into, or null for the stored bars. */
  readonly resample: Timeframe.Timeframe | null
}

export { MAX_CHART_BARS } from "../bars/readPages"

const PAGE = 10_000
const decodeQuery = Schema.decodeUnknown(BarsQuery)

const params = (view: BarsView): Record<string, string> => ({
  provider: view.key.provider,
  symbol: view.key.symbol,
  timeframe: view.key.timeframe,
  ...(view.fromMs === null ? {} : { from: new Date(view.fromMs).toISOString() }),
  ...(view.toMs === null ? {} : { to: new Date(view.toMs).toISOString() }),
  ...(view.resample === null ? {} : { resample: view.resample })
})

/** The `format=csv` download of the view (a link: the browser streams it to a file). */
export const csvUrl = (view: BarsView) =>
  `/api/datahub/bars?${new URLSearchParams({ ...params(view), format: "csv" })}`

/** One page of the view's bars after `cursor`. */
const page = (view: BarsView, cursor: string | null, limit: number) =>
  datahub((c) =>
    Effect.flatMap(
      decodeQuery({ ...params(view), ...(cursor === null ? {} : { cursor }), limit: String(limit) }),
      (urlParams) => c.bars.query({ urlParams })
    )
  )

/** The stored bars of `key` from `fromMs` on (at most `limit`), or the server's reason. */
export const storedBars = async (key: SeriesKey, fromMs: number | null, limit: number) => {
  const outcome = await page({ key, fromMs, toMs: null, resample: null }, null, limit)
  if (!outcome.ok) return { ok: false as const, message: outcome.failure.message }
  return typeof outcome.value === "string"
    ? { ok: false as const, message: "DataHub answered CSV where JSON was asked for" }
    : { ok: true as const, bars: outcome.value.bars }
}

export const useBars = () => {
  const bars = ref<ReadonlyArray<BarPoint>>([])
  const loading = ref(false)
  const loaded = ref(0)
  const truncated = ref(false)
  const error = ref<string | null>(null)
  const tookMs = ref<number | null>(null)
  const coverage = ref<typeof Coverage.Type | null>(null)
  const subscription = ref<Subscription | null>(null)
  let sequence = 0

  const load = async (view: BarsView) => {
    const mine = ++sequence
    loading.value = true
    error.value = null
    loaded.value = 0
    truncated.value = false
    const started = performance.now()
    void loadCoverage(view.key, mine)
    const read = await readPages(
      (cursor) => page(view, cursor, PAGE),
      () => mine === sequence,
      (n) => {
        loaded.value = n
      }
    )
    if (read === undefined) return
    error.value = read.error
    truncated.value = read.truncated
    bars.value = read.bars
    tookMs.value = Math.round(performance.now() - started)
    loading.value = false
  }

  const loadCoverage = async (key: SeriesKey, mine: number) => {
    coverage.value = null
    subscription.value = null
    const list = await datahub((c) => c.subscriptions.list({ urlParams: {} }))
    if (mine !== sequence || !list.ok) return
    const found = list.value.find(
      (s) => s.provider === key.provider && s.symbol === key.symbol && s.timeframe === key.timeframe
    )
    if (!found) return
    subscription.value = found
    const outcome = await datahub((c) => c.subscriptions.coverage({ path: { id: found.id } }))
    if (mine === sequence && outcome.ok) coverage.value = outcome.value
  }

  return { bars, loading, loaded, truncated, error, tookMs, coverage, subscription, load }
}
