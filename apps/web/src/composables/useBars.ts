/**
 * Stored bars for one series and range, fetched page by page (cursor) with the count so far as
 * progress, up to `MAX_CHART_BARS`; and the series' coverage (first, last, count, gaps) from
 * its subscription, when it has one.
 */
import { type BarPoint, BarsQuery, type Coverage, type Subscription } from "@quasar/domain"
import { Effect, Schema } from "effect"
import { ref } from "vue"
import { datahub } from "./useApi"

export interface SeriesKey {
  readonly provider: string
  readonly symbol: string
  readonly timeframe: string
}

export const MAX_CHART_BARS = 50_000
const PAGE = 10_000
const decodeQuery = Schema.decodeUnknown(BarsQuery)

/** The `format=csv` download of the same query (a link: the browser streams it to a file). */
export const csvUrl = (key: SeriesKey, fromMs: number | null, toMs: number | null) => {
  const params = new URLSearchParams({
    provider: key.provider,
    symbol: key.symbol,
    timeframe: key.timeframe,
    format: "csv"
  })
  if (fromMs !== null) params.set("from", new Date(fromMs).toISOString())
  if (toMs !== null) params.set("to", new Date(toMs).toISOString())
  return `/api/datahub/bars?${params}`
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

  const page = (key: SeriesKey, fromMs: number | null, toMs: number | null, cursor: string | null) =>
    datahub((c) =>
      Effect.flatMap(
        decodeQuery({
          provider: key.provider,
          symbol: key.symbol,
          timeframe: key.timeframe,
          ...(fromMs === null ? {} : { from: new Date(fromMs).toISOString() }),
          ...(toMs === null ? {} : { to: new Date(toMs).toISOString() }),
          ...(cursor === null ? {} : { cursor }),
          limit: String(PAGE)
        }),
        (urlParams) => c.bars.query({ urlParams })
      )
    )

  const load = async (key: SeriesKey, fromMs: number | null, toMs: number | null) => {
    const mine = ++sequence
    loading.value = true
    error.value = null
    loaded.value = 0
    truncated.value = false
    const started = performance.now()
    const all: Array<BarPoint> = []
    let cursor: string | null = null
    void loadCoverage(key, mine)
    do {
      const outcome = await page(key, fromMs, toMs, cursor)
      if (mine !== sequence) return
      if (!outcome.ok) {
        error.value = outcome.failure.message
        break
      }
      if (typeof outcome.value === "string") {
        error.value = "DataHub answered CSV where JSON was asked for"
        break
      }
      all.push(...outcome.value.bars)
      loaded.value = all.length
      cursor = outcome.value.nextCursor
    } while (cursor !== null && all.length < MAX_CHART_BARS)
    truncated.value = cursor !== null
    bars.value = all
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
