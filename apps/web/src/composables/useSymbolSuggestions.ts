/** Symbols a provider lists that match what is being typed (for a `<datalist>`), debounced. */
import { ProviderName } from "@quasar/domain"
import { Schema } from "effect"
import { type Ref, ref, watch } from "vue"
import { registry } from "./useApi"
import { useDebounced } from "./useDebounced"

const isProvider = Schema.is(ProviderName)

export const useSymbolSuggestions = (provider: Ref<string>, typed: Ref<string>) => {
  const options = ref<ReadonlyArray<{ symbol: string; name: string | null }>>([])
  const q = useDebounced(typed, 200)
  let sequence = 0
  watch(
    [provider, q],
    async ([p, text]) => {
      const mine = ++sequence
      if (!isProvider(p)) {
        options.value = []
        return
      }
      const outcome = await registry((c) =>
        c.assets.search({
          urlParams: { provider: p, q: text.trim() || undefined, status: "active", limit: 25 }
        })
      )
      if (mine === sequence && outcome.ok)
        options.value = outcome.value.items.map((a) => ({ symbol: a.symbol, name: a.name }))
    },
    { immediate: true }
  )
  return options
}
