/**
 * The explorer's choices — series (provider, symbol, timeframe) and range — kept in the URL so a
 * view can be linked (the Subscriptions page does), and the loads they trigger.
 */
import { Timeframe } from "@quasar/domain"
import { computed, reactive, ref, watch } from "vue"
import { useRoute, useRouter } from "vue-router"
import { fromLocalInput, toLocalInput } from "../format"
import { csvUrl, type SeriesKey, useBars } from "./useBars"

const text = (v: unknown) => (typeof v === "string" ? v : "")
const HOUR = 3_600_000

export const rangePresets = [
  { label: "6 h", ms: 6 * HOUR },
  { label: "1 day", ms: 24 * HOUR },
  { label: "1 week", ms: 7 * 24 * HOUR },
  { label: "1 month", ms: 30 * 24 * HOUR },
  { label: "1 year", ms: 365 * 24 * HOUR }
] as const

export const useExplorer = () => {
  const route = useRoute()
  const router = useRouter()
  const form = reactive({
    provider: text(route.query.provider),
    symbol: text(route.query.symbol),
    timeframe: (Timeframe.timeframes as ReadonlyArray<string>).includes(text(route.query.timeframe))
      ? text(route.query.timeframe)
      : "1m",
    from: text(route.query.from) ? toLocalInput(Date.parse(text(route.query.from))) : "",
    to: text(route.query.to) ? toLocalInput(Date.parse(text(route.query.to))) : ""
  })
  const preset = ref<string | null>(form.from === "" ? "All" : null)
  const shown = ref<SeriesKey | null>(null)
  const bars = useBars()

  const fromMs = computed(() => fromLocalInput(form.from))
  const toMs = computed(() => fromLocalInput(form.to))
  const ready = computed(() => form.provider !== "" && form.symbol.trim() !== "")
  const csv = computed(() => (shown.value ? csvUrl(shown.value, fromMs.value, toMs.value) : null))

  const show = async () => {
    if (!ready.value) return
    const key = { provider: form.provider, symbol: form.symbol.trim(), timeframe: form.timeframe }
    shown.value = key
    const query: Record<string, string> = { ...key }
    if (fromMs.value !== null) query.from = new Date(fromMs.value).toISOString()
    if (toMs.value !== null) query.to = new Date(toMs.value).toISOString()
    void router.replace({ query })
    await bars.load(key, fromMs.value, toMs.value)
  }

  const usePreset = (label: string, ms: number | null) => {
    preset.value = label
    form.from = ms === null ? "" : toLocalInput(Date.now() - ms)
    form.to = ""
    void show()
  }

  watch(
    () => [form.from, form.to],
    () => {
      if (preset.value !== null && form.from !== "" && !rangePresets.some((p) => p.label === preset.value))
        preset.value = null
    }
  )

  if (ready.value) void show()
  return { form, preset, shown, fromMs, toMs, ready, csv, show, usePreset, ...bars }
}
