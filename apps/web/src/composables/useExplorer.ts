/**
 * The explorer's choices — series (provider, symbol, timeframe), range and the timeframe the bars
 * are shown in — kept in the URL so a view can be linked (the Subscriptions page does), and the
 * loads they trigger. Shown "auto", a range is charted in the smallest timeframe that fits it on
 * screen (`chartTimeframe`): the last week of 1-minute bars as 15-minute bars, resampled by DataHub.
 */
import { Timeframe } from "@quasar/domain"
import { computed, reactive, ref, watch } from "vue"
import { useRoute, useRouter } from "vue-router"
import { chartTimeframe, chartTimeframes } from "../bars/chartTimeframe"
import { fromLocalInput, toLocalInput } from "../format"
import { type BarsView, csvUrl, type SeriesKey, storedBars, useBars } from "./useBars"

const text = (v: unknown) => (typeof v === "string" ? v : "")
const HOUR = 3_600_000
const isTimeframe = (v: string): v is Timeframe.Timeframe =>
  (Timeframe.timeframes as ReadonlyArray<string>).includes(v)

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
  const timeframe = text(route.query.timeframe)
  const resample = text(route.query.resample)
  const form = reactive({
    provider: text(route.query.provider),
    symbol: text(route.query.symbol),
    timeframe: isTimeframe(timeframe) ? timeframe : "1m",
    /** "auto", or the timeframe to show the bars in. */
    resolution: isTimeframe(resample) ? resample : "auto",
    from: text(route.query.from) ? toLocalInput(Date.parse(text(route.query.from))) : "",
    to: text(route.query.to) ? toLocalInput(Date.parse(text(route.query.to))) : ""
  })
  const preset = ref<string | null>(form.from === "" ? "All" : null)
  const shown = ref<SeriesKey | null>(null)
  const view = ref<BarsView | null>(null)
  const bars = useBars()

  const fromMs = computed(() => fromLocalInput(form.from))
  const toMs = computed(() => fromLocalInput(form.to))
  const ready = computed(() => form.provider !== "" && form.symbol.trim() !== "")
  const resolutions = computed(() => chartTimeframes(form.timeframe))
  const csv = computed(() => (view.value ? csvUrl(view.value) : null))
  /** The timeframe of the bars on the chart. */
  const shownTimeframe = computed(() => view.value?.resample ?? view.value?.key.timeframe ?? null)

  watch(resolutions, (list) => {
    if (form.resolution !== "auto" && !list.some((tf) => tf === form.resolution)) form.resolution = "auto"
  })

  /** The timeframe to show `key` in over the form's range. */
  const resolve = async (key: SeriesKey, stored: Timeframe.Timeframe): Promise<Timeframe.Timeframe> => {
    if (form.resolution !== "auto") return resolutions.value.find((tf) => tf === form.resolution) ?? stored
    // Without a start, the range starts at the series' first bar.
    const first = fromMs.value ?? (await firstBarMs(key))
    return first === null ? stored : chartTimeframe(stored, (toMs.value ?? Date.now()) - first)
  }
  const firstBarMs = async (key: SeriesKey) => {
    const first = await storedBars(key, null, 1)
    const ts = first.ok ? first.bars[0]?.ts : undefined
    return ts === undefined ? null : Date.parse(ts)
  }

  let showing = 0
  const show = async () => {
    if (!ready.value) return
    const mine = ++showing
    const stored = form.timeframe
    const key = { provider: form.provider, symbol: form.symbol.trim(), timeframe: stored }
    shown.value = key
    const query: Record<string, string> = { ...key }
    if (fromMs.value !== null) query.from = new Date(fromMs.value).toISOString()
    if (toMs.value !== null) query.to = new Date(toMs.value).toISOString()
    if (form.resolution !== "auto") query.resample = form.resolution
    void router.replace({ query })
    const shownIn = await resolve(key, stored)
    if (mine !== showing) return
    view.value = {
      key,
      fromMs: fromMs.value,
      toMs: toMs.value,
      resample: shownIn === stored ? null : shownIn
    }
    await bars.load(view.value)
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
  return {
    form,
    preset,
    shown,
    view,
    shownTimeframe,
    resolutions,
    fromMs,
    toMs,
    ready,
    csv,
    show,
    usePreset,
    ...bars
  }
}
