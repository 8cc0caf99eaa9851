/**
 * One run followed until it ends: its detail is fetched when chosen and polled every second while
 * it is queued or running (progress and time left), then once more for its result. Another run's
 * detail is never shown under the chosen run's id, not even while the chosen one loads.
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

  let sequence = 0

  const reload = async () => {
    const mine = ++sequence
    const current = id()
    if (run.value !== null && run.value.id !== current) run.value = null
    if (current === null) {
      error.value = null
      return
    }
    if (run.value === null) loading.value = true
    const outcome = await backtestDetail(current)
    // A slower answer to an earlier request must not replace a newer one.
    if (mine !== sequence) return
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
