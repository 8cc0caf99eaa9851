/**
 * Strategy code in the Registry (code kind `strategy`): the list, one strategy's versions with
 * their manifests, uploading, activation, deletion and rollback — the same lifecycle as providers,
 * without settings or assets, which strategies do not have.
 */
import type { CodeVersion, ProviderName, StrategyManifest } from "@quasar/domain"
import { computed, onMounted, ref, watch } from "vue"
import { strategyManifestOf } from "../backtest/strategyManifest"
import { registry } from "./useApi"
import { type CodeSummary, useProviders } from "./useProviders"

export const isStrategy = (code: { readonly kind: string }) => code.kind === "strategy"

/** The strategies in the code registry, and the upload the Strategies page offers. */
export const useStrategies = () => {
  const code = useProviders()
  const strategies = computed<ReadonlyArray<CodeSummary>>(() => code.all.value.filter(isStrategy))
  return {
    strategies,
    all: code.all,
    loading: code.loading,
    error: code.error,
    reload: code.reload,
    upload: code.upload
  }
}

/** The manifest a run uses: the active version's, else the newest valid one. */
export const currentManifest = (versions: ReadonlyArray<CodeVersion>): StrategyManifest | null => {
  const current =
    versions.find((v) => v.status === "active") ??
    versions.toSorted((a, b) => b.version - a.version).find((v) => v.status === "valid")
  return current ? strategyManifestOf(current) : null
}

/** The versions of one strategy, newest first (they can be run: valid or active ones). */
export const strategyVersions = async (name: ProviderName) => {
  const outcome = await registry((c) => c.code.versions({ path: { name } }))
  return outcome.ok ? { ...outcome, value: outcome.value.toSorted((a, b) => b.version - a.version) } : outcome
}

export const useStrategyDetail = (name: () => ProviderName | null) => {
  const versions = ref<ReadonlyArray<CodeVersion>>([])
  const error = ref<string | null>(null)

  const reload = async () => {
    const current = name()
    if (current === null) {
      versions.value = []
      return
    }
    const outcome = await strategyVersions(current)
    if (current !== name()) return
    error.value = outcome.ok ? null : outcome.failure.message
    versions.value = outcome.ok ? outcome.value : []
  }
  watch(name, reload)
  onMounted(reload)

  const manifest = computed(() => currentManifest(versions.value))

  const withName = <A>(call: (n: ProviderName) => Promise<A>) => {
    const current = name()
    if (current === null) throw new Error("no strategy selected")
    return call(current)
  }

  return {
    versions,
    manifest,
    error,
    reload,
    activate: (version: number) =>
      withName((n) => registry((c) => c.code.activate({ path: { name: n, version } }))),
    remove: (version: number) =>
      withName((n) => registry((c) => c.code.deleteVersion({ path: { name: n, version } }))),
    rollback: () => withName((n) => registry((c) => c.code.rollback({ path: { name: n } })))
  }
}
