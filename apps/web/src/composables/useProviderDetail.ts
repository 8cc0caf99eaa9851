/**
 * One provider: its versions (with validation reports), the settings its manifest declares and
 * their current values (secrets only as "set"/"not set"), and the version actions.
 */
import type { CodeVersion, Manifest, ProviderName, SettingsView } from "@quasar/domain"
import { computed, ref, watch } from "vue"
import { registry } from "./useApi"
import { versionCalls } from "./useVersionActions"

type Settings = typeof SettingsView.Type
export type SettingInputValue = string | number | boolean | null

export const useProviderDetail = (name: () => ProviderName | null) => {
  const versions = ref<ReadonlyArray<CodeVersion>>([])
  const settings = ref<Settings | null>(null)
  const loading = ref(false)
  const error = ref<string | null>(null)

  const reload = async () => {
    const current = name()
    if (current === null) {
      versions.value = []
      settings.value = null
      return
    }
    loading.value = true
    const [v, s] = await Promise.all([
      registry((c) => c.code.versions({ path: { name: current } })),
      registry((c) => c.code.settings({ path: { name: current } }))
    ])
    loading.value = false
    if (current !== name()) return
    error.value = !v.ok ? v.failure.message : !s.ok ? s.failure.message : null
    versions.value = v.ok ? v.value.toSorted((a, b) => b.version - a.version) : []
    settings.value = s.ok ? s.value : null
  }
  watch(name, reload, { immediate: true })

  /**
   * The manifest that settings follow: the active (or disabled) version's, else the newest valid
   * one. A strategy's has no settings, capabilities or timeframes: none for this page.
   */
  const manifest = computed<Manifest | null>(() => {
    const current = versions.value.find((v) => v.status === "active" || v.status === "disabled")
    const found = (current ?? versions.value.find((v) => v.status === "valid"))?.manifest ?? null
    return found?.kind === "strategy" ? null : found
  })

  const withName = <A>(call: (n: ProviderName) => Promise<A>): Promise<A> => {
    const current = name()
    if (current === null) throw new Error("no provider selected")
    return call(current)
  }

  return {
    versions,
    settings,
    manifest,
    loading,
    error,
    reload,
    ...versionCalls(withName),
    disable: () => withName((n) => registry((c) => c.code.disable({ path: { name: n } }))),
    refreshAssets: () => withName((n) => registry((c) => c.assets.refresh({ path: { provider: n } }))),
    saveSettings: (values: Record<string, SettingInputValue>) =>
      withName((n) => registry((c) => c.code.updateSettings({ path: { name: n }, payload: { values } })))
  }
}
