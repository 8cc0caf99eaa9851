/**
 * Subscriptions and their collection state. While any is backfilling the list refreshes every
 * 2 s so progress bars move; otherwise every 15 s.
 */
import { CreateSubscription, type Subscription } from "@quasar/domain"
import { Effect, Schema } from "effect"
import { computed, onMounted, ref } from "vue"
import { datahub } from "./useApi"
import { usePolling } from "./usePolling"

export interface SubscriptionDraft {
  readonly provider: string
  readonly symbol: string
  readonly useCommonSymbol: boolean
  readonly timeframes: ReadonlyArray<string>
  readonly mode: string
  /** Epoch ms, or null for the provider's default. */
  readonly backfillFrom: number | null
}

const decodeCreate = Schema.decodeUnknown(CreateSubscription)

export const useSubscriptions = () => {
  const subscriptions = ref<ReadonlyArray<Subscription>>([])
  const loading = ref(true)
  const error = ref<string | null>(null)

  const reload = async () => {
    const outcome = await datahub((c) => c.subscriptions.list({ urlParams: {} }))
    loading.value = false
    if (outcome.ok) {
      subscriptions.value = outcome.value.toSorted((a, b) => b.id - a.id)
      error.value = null
    } else error.value = outcome.failure.message
  }

  const backfilling = computed(() => subscriptions.value.some((s) => s.state.status === "backfilling"))
  usePolling(
    reload,
    () => (backfilling.value ? 2_000 : 15_000),
    () => true
  )
  onMounted(reload)

  const create = (draft: SubscriptionDraft) =>
    datahub((c) =>
      Effect.flatMap(
        decodeCreate({
          provider: draft.provider,
          ...(draft.useCommonSymbol
            ? { commonSymbol: draft.symbol.trim() }
            : { symbol: draft.symbol.trim() }),
          timeframes: draft.timeframes,
          mode: draft.mode,
          ...(draft.backfillFrom === null ? {} : { backfillFrom: new Date(draft.backfillFrom).toISOString() })
        }),
        (payload) => c.subscriptions.create({ payload })
      )
    )

  const pause = (s: Subscription) => datahub((c) => c.subscriptions.pause({ path: { id: s.id } }))
  const resume = (s: Subscription) => datahub((c) => c.subscriptions.resume({ path: { id: s.id } }))
  const remove = (s: Subscription, purge: boolean) =>
    datahub((c) => c.subscriptions.remove({ path: { id: s.id }, urlParams: { purge } }))

  return { subscriptions, loading, error, backfilling, reload, create, pause, resume, remove }
}
