/**
 * The collection history of the series on screen: which runs covered the range, what they
 * wrote, their retries and errors — the answer to "why are bars missing here?".
 */
import { type CollectionHistory, CollectionQuery } from "@quasar/domain"
import { Effect, Schema } from "effect"
import { ref } from "vue"
import { datahub } from "./useApi"
import type { SeriesKey } from "./useBars"

const decodeQuery = Schema.decodeUnknown(CollectionQuery)

export const useCollectionRuns = () => {
  const history = ref<typeof CollectionHistory.Type | null>(null)
  const error = ref<string | null>(null)
  const loading = ref(false)

  const load = async (key: SeriesKey, fromMs: number | null, toMs: number | null) => {
    loading.value = true
    const outcome = await datahub((c) =>
      Effect.flatMap(
        decodeQuery({
          provider: key.provider,
          symbol: key.symbol,
          timeframe: key.timeframe,
          ...(fromMs === null ? {} : { from: new Date(fromMs).toISOString() }),
          ...(toMs === null ? {} : { to: new Date(toMs).toISOString() }),
          limit: "50"
        }),
        (urlParams) => c.collection.history({ urlParams })
      )
    )
    loading.value = false
    history.value = outcome.ok ? outcome.value : null
    error.value = outcome.ok ? null : outcome.failure.message
  }

  return { history, error, loading, load }
}
