/**
 * One run followed until it ends: its detail is fetched when chosen and polled every second while
 * it is queued or running (progress and time left), then once more for its result.
 */
import { type BacktestDetail, BacktestId } from "@quasar/domain"
import { Either, Schema } from "effect"
import { ref, watch } from "vue"
import { trader } from "./useApi"
import { isUnderway } from "./useBacktests"
import { usePolling } from "./usePolling"

const decodeId = Schema.decodeUnknownEither(BacktestId)

export const backtestDetail = async (id: number) => {
  const decoded = decodeId(id)
  if (Either.isLeft(decoded))
    return { ok: false as const, message: `${id} is not a backtest id: pick a run from the list` }
  const outcome = await trader((c) => c.backtests.get({ path: { id: decoded.right } }))
  return outcome.ok
    ? { ok: true as const, run: outcome.value }
    : { ok: false as const, message: outcome.failure.message }
}

export const useBacktestRun = (id: () => number | null) => {
  const run = ref<BacktestDetail | null>(null)
  const error = ref<string | null>(null)
  const loading = ref(false)

  const reload = async () => {
    const current = id()
    if (current === null) {
      run.value = null
      error.value = null
      return
    }
    if (run.value?.id !== current) loading.value = true
    const outcome = await backtestDetail(current)
    if (current !== id()) return
    loading.value = false
    run.value = outcome.ok ? outcome.run : null
    error.value = outcome.ok ? null : outcome.message
  }
  watch(id, reload, { immediate: true })
  usePolling(
    reload,
    () => 1_000,
    () => run.value !== null && isUnderway(run.value)
  )
  return { run, error, loading, reload }
}
