/**
 * Asset search over tens of thousands of rows: the server filters and pages (total included),
 * typing is debounced, an answer that arrives after a newer request is dropped, and the rows on
 * screen stay until the next page is there. Filters live in the URL so a search can be shared.
 */
import { type Asset, AssetClass, ProviderName } from "@quasar/domain"
import { Schema } from "effect"
import { computed, reactive, ref, watch } from "vue"
import { useRoute, useRouter } from "vue-router"
import { registry } from "./useApi"
import { useDebounced } from "./useDebounced"

export interface AssetFilters {
  q: string
  provider: string
  assetClass: string
  exchange: string
  status: string
}

const text = (v: unknown) => (typeof v === "string" ? v : "")
const isProvider = Schema.is(ProviderName)
const isAssetClass = Schema.is(AssetClass)

export const useAssets = () => {
  const route = useRoute()
  const router = useRouter()
  const filters = reactive<AssetFilters>({
    q: text(route.query.q),
    provider: text(route.query.provider),
    assetClass: text(route.query.assetClass),
    exchange: text(route.query.exchange),
    status: text(route.query.status)
  })
  const limit = ref(50)
  const offset = ref(Number(text(route.query.offset)) || 0)
  const items = ref<ReadonlyArray<Asset>>([])
  const total = ref(0)
  const loading = ref(false)
  const error = ref<string | null>(null)
  const tookMs = ref<number | null>(null)

  const typed = computed(() => `${filters.q}\u0000${filters.exchange}`)
  const debouncedTyped = useDebounced(typed, 250)
  let sequence = 0

  const load = async () => {
    const mine = ++sequence
    loading.value = true
    const started = performance.now()
    const [q = "", exchange = ""] = debouncedTyped.value.split("\u0000")
    const outcome = await registry((c) =>
      c.assets.search({
        urlParams: {
          q: q.trim() || undefined,
          provider: isProvider(filters.provider) ? filters.provider : undefined,
          assetClass: isAssetClass(filters.assetClass) ? filters.assetClass : undefined,
          exchange: exchange.trim() || undefined,
          status: filters.status === "active" || filters.status === "delisted" ? filters.status : undefined,
          limit: limit.value,
          offset: offset.value
        }
      })
    )
    if (mine !== sequence) return
    loading.value = false
    tookMs.value = Math.round(performance.now() - started)
    if (outcome.ok) {
      items.value = outcome.value.items
      total.value = outcome.value.total
      error.value = null
    } else error.value = outcome.failure.message
  }

  // A new filter starts from the first page; paging keeps the filters.
  watch(
    [debouncedTyped, () => filters.provider, () => filters.assetClass, () => filters.status, limit],
    () => {
      if (offset.value === 0) void load()
      else offset.value = 0
    }
  )
  watch(offset, () => void load())
  watch(
    [debouncedTyped, () => filters.provider, () => filters.assetClass, () => filters.status, offset],
    () => {
      const query: Record<string, string> = {}
      for (const [key, value] of Object.entries(filters)) if (value !== "") query[key] = value
      if (offset.value > 0) query.offset = String(offset.value)
      void router.replace({ query })
    }
  )

  const clear = () => {
    filters.q = ""
    filters.provider = ""
    filters.assetClass = ""
    filters.exchange = ""
    filters.status = ""
  }

  void load()
  return { filters, limit, offset, items, total, loading, error, tookMs, load, clear }
}
