/**
 * Backtest runs in Trader: the list (polled every second while a run is queued or running, so
 * progress bars and ETAs move), one run in full, and submitting, cancelling and deleting runs.
 */
import type { BacktestId, BacktestRequest, BacktestSummary } from "@quasar/domain"
import { computed, onMounted, ref } from "vue"
import { trader } from "./useApi"
import { usePolling } from "./usePolling"

export const isUnderway = (run: { readonly status: string }) =>
  run.status === "queued" || run.status === "running"

export const useBacktests = () => {
  const runs = ref<ReadonlyArray<BacktestSummary>>([])
  const loading = ref(true)
  const error = ref<string | null>(null)

  const reload = async () => {
    const outcome = await trader((c) => c.backtests.list({ urlParams: {} }))
    loading.value = false
    if (outcome.ok) {
      runs.value = outcome.value
      error.value = null
    } else error.value = outcome.failure.message
  }
  const underway = computed(() => runs.value.some(isUnderway))
  usePolling(
    reload,
    () => 1_000,
    () => underway.value
  )
  onMounted(reload)

  return {
    runs,
    loading,
    error,
    reload,
    submit: (request: BacktestRequest) => trader((c) => c.backtests.submit({ payload: request })),
    cancel: (id: BacktestId) => trader((c) => c.backtests.cancel({ path: { id } })),
    remove: (id: BacktestId) => trader((c) => c.backtests.remove({ path: { id } }))
  }
}
