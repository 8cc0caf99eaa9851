/**
 * What the overview shows: the services' health (Registry, DataHub, Trader) (an unhealthy one still sends its report, as
 * `Unhealthy.report`), the subscriptions (whose failures it lists), and DataHub's live
 * connections as `/live/status` reports them. Refreshes every 10 s while the tab is visible.
 */
import { HealthReport, type LiveStatus, type Subscription } from "@quasar/domain"
import { DateTime } from "effect"
import { computed, onMounted, ref } from "vue"
import { datahub, type Outcome, registry, trader } from "./useApi"
import { usePolling } from "./usePolling"

export interface ServiceHealth {
  readonly service: "registry" | "datahub" | "trader"
  /** The service's own report (also sent with a 503), or null when it could not be reached. */
  readonly report: HealthReport | null
  /** Why it is not ok, in the server's words. */
  readonly problem: string | null
}

const toHealth = (service: ServiceHealth["service"], outcome: Outcome<HealthReport>): ServiceHealth => {
  if (outcome.ok) return { service, report: outcome.value, problem: null }
  const report = Reflect.get(Object(outcome.failure.error), "report")
  return {
    service,
    report: report instanceof HealthReport ? report : null,
    problem: outcome.failure.message
  }
}

export const useOverview = () => {
  const services = ref<Array<ServiceHealth>>([])
  const subscriptions = ref<ReadonlyArray<Subscription>>([])
  const subscriptionsError = ref<string | null>(null)
  const live = ref<typeof LiveStatus.Type | null>(null)
  const liveError = ref<string | null>(null)
  const loading = ref(true)
  const checkedAt = ref<Date | null>(null)

  const refresh = async () => {
    const [reg, hub, trade, subs, liveStatus] = await Promise.all([
      registry((c) => c.health.health()),
      datahub((c) => c.health.health()),
      trader((c) => c.health.health()),
      datahub((c) => c.subscriptions.list({ urlParams: {} })),
      datahub((c) => c.live.status())
    ])
    services.value = [toHealth("registry", reg), toHealth("datahub", hub), toHealth("trader", trade)]
    if (subs.ok) {
      subscriptions.value = subs.value
      subscriptionsError.value = null
    } else subscriptionsError.value = subs.failure.message
    live.value = liveStatus.ok ? liveStatus.value : null
    liveError.value = liveStatus.ok ? null : liveStatus.failure.message
    checkedAt.value = new Date()
    loading.value = false
  }

  const inError = computed(() => subscriptions.value.filter((s) => s.state.status === "error"))
  /** Every subscription whose state still carries an error, newest next run first. */
  const recentFailures = computed(() =>
    subscriptions.value
      .filter((s) => s.state.lastError !== null && s.state.status !== "error")
      .toSorted(
        (a, b) =>
          (b.state.nextRunAt ? DateTime.toEpochMillis(b.state.nextRunAt) : 0) -
          (a.state.nextRunAt ? DateTime.toEpochMillis(a.state.nextRunAt) : 0)
      )
  )
  const counts = computed(() => {
    const by = { backfilling: 0, current: 0, paused: 0, error: 0 }
    for (const s of subscriptions.value) by[s.state.status]++
    return by
  })
  const liveConnections = computed(() => live.value?.connections ?? [])

  onMounted(refresh)
  usePolling(
    refresh,
    () => 10_000,
    () => true
  )

  return {
    services,
    subscriptions,
    subscriptionsError,
    loading,
    checkedAt,
    inError,
    recentFailures,
    counts,
    live,
    liveError,
    liveConnections,
    refresh
  }
}
