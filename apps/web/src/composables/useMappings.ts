/**
 * Asset mappings (common symbol ↔ a source's symbol): the list with a quick filter, edits,
 * suggestions to accept one by one or in bulk, and CSV import. Every input is checked with the
 * contract's schema first, so a bad symbol is reported before anything is sent.
 */
import type { AssetMapping, MappingSuggestion } from "@quasar/domain"
import { MappingInput } from "@quasar/domain"
import { Effect, Schema } from "effect"
import { computed, onMounted, ref } from "vue"
import { registry } from "./useApi"

export type Suggestion = typeof MappingSuggestion.Type
export interface MappingDraft {
  readonly commonSymbol: string
  readonly source: string
  readonly symbol: string
}

const SHOWN = 200
const decodeInput = Schema.decodeUnknown(MappingInput)
const decodeInputs = Schema.decodeUnknown(Schema.Array(MappingInput))

export const suggestionKey = (s: { source: string; symbol: string }) => `${s.source}\u0000${s.symbol}`

export const useMappings = () => {
  const mappings = ref<ReadonlyArray<AssetMapping>>([])
  const suggestions = ref<ReadonlyArray<Suggestion>>([])
  const loading = ref(true)
  const error = ref<string | null>(null)
  const filter = ref("")
  const shown = ref(SHOWN)

  const reload = async () => {
    const [list, suggested] = await Promise.all([
      registry((c) => c.mappings.list({ urlParams: {} })),
      registry((c) => c.mappings.suggestions())
    ])
    loading.value = false
    error.value = !list.ok ? list.failure.message : !suggested.ok ? suggested.failure.message : null
    if (list.ok) mappings.value = list.value.toSorted((a, b) => a.commonSymbol.localeCompare(b.commonSymbol))
    if (suggested.ok) suggestions.value = suggested.value
  }

  const filtered = computed(() => {
    const words = filter.value.trim().toLowerCase().split(/\s+/).filter(Boolean)
    if (words.length === 0) return mappings.value
    return mappings.value.filter((m) => {
      const hay = `${m.commonSymbol} ${m.source} ${m.symbol}`.toLowerCase()
      return words.every((w) => hay.includes(w))
    })
  })
  const visible = computed(() => filtered.value.slice(0, shown.value))

  const save = (draft: MappingDraft) =>
    registry((c) => Effect.flatMap(decodeInput(draft), (payload) => c.mappings.upsert({ payload })))

  // The derived client puts path parameters into the URL as given: a `/` in a symbol (XBT/USD)
  // would split it into two segments, so the symbol is percent-encoded.
  const remove = (m: AssetMapping) =>
    registry((c) => c.mappings.remove({ path: { source: m.source, symbol: m.symbol } }))

  const acceptAll = (chosen: ReadonlyArray<Suggestion>) =>
    registry((c) =>
      Effect.flatMap(
        decodeInputs(chosen.map(({ commonSymbol, source, symbol }) => ({ commonSymbol, source, symbol }))),
        (list) => c.mappings.bulk({ payload: { mappings: list } })
      )
    )

  const importCsv = (csv: string) => registry((c) => c.mappings.importCsv({ payload: csv }))

  onMounted(reload)
  return {
    mappings,
    suggestions,
    loading,
    error,
    filter,
    filtered,
    visible,
    shown,
    reload,
    save,
    remove,
    acceptAll,
    importCsv,
    showMore: () => {
      shown.value += SHOWN
    }
  }
}
