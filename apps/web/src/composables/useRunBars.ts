/**
 * The bars a run traded, for its price chart: one universe member's stored bars over the run's
 * range in its timeframe, page by page up to `MAX_CHART_BARS`. A common symbol is read through
 * the run's provider's mapping (`commonSymbol`), a `provider:symbol` pair as it is.
 */
import { type BacktestInputs, type BarPoint, BarsQuery } from "@quasar/domain"
import { Effect, Schema } from "effect"
import { ref } from "vue"
import { datahub } from "./useApi"
import { MAX_CHART_BARS } from "./useBars"

const PAGE = 10_000
const decodeQuery = Schema.decodeUnknown(BarsQuery)

/** The query of one member: `provider:symbol` names a pair, anything else a common symbol. */
export const memberQuery = (inputs: BacktestInputs, member: string): Record<string, string> => {
  const colon = member.indexOf(":")
  const series: Record<string, string> =
    colon > 0
      ? { provider: member.slice(0, colon), symbol: member.slice(colon + 1) }
      : { provider: inputs.provider, commonSymbol: member }
  return {
    ...series,
    timeframe: inputs.timeframe,
    from: new Date(inputs.from).toISOString(),
    to: new Date(inputs.to).toISOString()
  }
}

const page = (inputs: BacktestInputs, member: string, cursor: string | null) =>
  datahub((c) =>
    Effect.flatMap(
      decodeQuery({ ...memberQuery(inputs, member), limit: String(PAGE), ...(cursor ? { cursor } : {}) }),
      (urlParams) => c.bars.query({ urlParams })
    )
  )

export const useRunBars = () => {
  const bars = ref<ReadonlyArray<BarPoint>>([])
  const loading = ref(false)
  const error = ref<string | null>(null)
  let sequence = 0

  const load = async (inputs: BacktestInputs, member: string) => {
    const mine = ++sequence
    loading.value = true
    error.value = null
    const all: Array<BarPoint> = []
    let cursor: string | null = null
    do {
      const outcome = await page(inputs, member, cursor)
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
      cursor = outcome.value.nextCursor
    } while (cursor !== null && all.length < MAX_CHART_BARS)
    bars.value = all
    loading.value = false
  }

  return { bars, loading, error, load }
}
