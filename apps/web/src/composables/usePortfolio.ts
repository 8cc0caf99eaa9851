/** The portfolio of every deployment's account and their sum, polled every two seconds while shown. */
import type { Portfolio } from "@quasar/domain"
import { onMounted, ref } from "vue"
import { trader } from "./useApi"
import { usePolling } from "./usePolling"

export const usePortfolio = () => {
  const portfolio = ref<Portfolio | null>(null)
  const loading = ref(true)
  const error = ref<string | null>(null)

  const reload = async () => {
    const outcome = await trader((c) => c.portfolio.all())
    loading.value = false
    if (outcome.ok) {
      portfolio.value = outcome.value
      error.value = null
    } else error.value = outcome.failure.message
  }
  usePolling(
    reload,
    () => 2_000,
    () => true
  )
  onMounted(reload)
  return { portfolio, loading, error, reload }
}
