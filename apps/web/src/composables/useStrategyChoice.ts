/**
 * Choosing what to run, for a backtest or a deployment alike: a strategy, its version (the active
 * one unless another is picked), the version's manifest, a params draft that starts at the
 * manifest's defaults whenever the choice changes, and the provider whose bars it runs on
 * (synthetic when there is one).
 */
import { type CodeVersion, ProviderName } from "@quasar/domain"
import { Either, Schema } from "effect"
import { computed, ref, watch } from "vue"
import { type DraftValue, defaultsOf, paramProblems } from "../backtest/paramsDraft"
import { strategyManifestOf } from "../backtest/strategyManifest"
import type { CodeSummary } from "./useProviders"
import { strategyVersions } from "./useStrategies"

export const useStrategyChoice = (
  strategies: () => ReadonlyArray<CodeSummary>,
  providers: () => ReadonlyArray<CodeSummary>,
  initial?: string
) => {
  const strategy = ref(initial ?? "")
  const provider = ref("")
  const version = ref<number | "active">("active")
  const versions = ref<ReadonlyArray<CodeVersion>>([])
  const versionsError = ref<string | null>(null)
  const draft = ref<Record<string, DraftValue>>({})

  watch(
    strategies,
    (list) => {
      if (!list.some((s) => s.name === strategy.value)) strategy.value = list[0]?.name ?? ""
    },
    { immediate: true }
  )
  watch(
    providers,
    (list) => {
      if (!list.some((p) => p.name === provider.value))
        provider.value = (list.find((p) => p.name === "synthetic") ?? list[0])?.name ?? ""
    },
    { immediate: true }
  )
  watch(
    strategy,
    async (name) => {
      versions.value = []
      version.value = "active"
      if (name === "") return
      const decoded = Schema.decodeUnknownEither(ProviderName)(name)
      if (Either.isLeft(decoded)) return
      const outcome = await strategyVersions(decoded.right)
      if (name !== strategy.value) return
      versionsError.value = outcome.ok ? null : outcome.failure.message
      versions.value = outcome.ok
        ? outcome.value.filter((v) => v.status === "valid" || v.status === "active")
        : []
    },
    { immediate: true }
  )

  const chosen = computed(() =>
    version.value === "active"
      ? versions.value.find((v) => v.status === "active")
      : versions.value.find((v) => v.version === version.value)
  )
  const manifest = computed(() => (chosen.value ? strategyManifestOf(chosen.value) : null))
  const spec = computed(() => manifest.value?.params ?? [])
  watch(spec, (s) => {
    draft.value = defaultsOf(s)
  })
  const hasActive = computed(() => versions.value.some((v) => v.status === "active"))

  /** What is wrong with the choice and its params, or null. */
  const problem = computed((): string | null => {
    const problems = Object.values(paramProblems(spec.value, draft.value))
    if (problems.length > 0) return problems.join("; ")
    if (version.value === "active" && !hasActive.value)
      return "this strategy has no active version: pick one or activate one on the Strategies page"
    return null
  })

  return { strategy, version, versions, versionsError, draft, manifest, spec, hasActive, provider, problem }
}

export type StrategyChoice = ReturnType<typeof useStrategyChoice>
