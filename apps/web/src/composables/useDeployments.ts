/**
 * Deployments in Trader: the list (polled every two seconds while one runs or flattens, so equity
 * and status move), one deployment with its orders, fills and audit trail (polled the same way),
 * and creating, starting, stopping and killing them.
 */
import {
  type AuditEntry,
  type Deployment,
  type DeploymentFill,
  DeploymentId,
  type DeploymentOrder,
  type DeploymentRequest
} from "@quasar/domain"
import { Either, Schema } from "effect"
import { computed, onMounted, ref, watch } from "vue"
import { trader } from "./useApi"
import { usePolling } from "./usePolling"

const POLL_MS = 2_000

export const isLive = (d: { readonly status: string }) => d.status === "running" || d.status === "flattening"

/** Whether the kill switch still has something to do (it does not once the deployment ended flat). */
export const canKill = (d: Deployment) =>
  d.status === "running" ||
  d.status === "flattening" ||
  ((d.status === "created" || d.status === "stopped" || d.status === "failed") && d.positions.length > 0)

export const asDeploymentId = (u: unknown): DeploymentId | null => {
  const n = typeof u === "string" && /^\d+$/.test(u) ? Number(u) : Number.NaN
  return Either.getOrNull(Schema.decodeUnknownEither(DeploymentId)(n))
}

export const useDeployments = () => {
  const deployments = ref<ReadonlyArray<Deployment>>([])
  const loading = ref(true)
  const error = ref<string | null>(null)

  const reload = async () => {
    const outcome = await trader((c) => c.deployments.list({ urlParams: {} }))
    loading.value = false
    if (outcome.ok) {
      deployments.value = outcome.value
      error.value = null
    } else error.value = outcome.failure.message
  }
  const live = computed(() => deployments.value.some(isLive))
  usePolling(
    reload,
    () => POLL_MS,
    () => live.value
  )
  onMounted(reload)

  return {
    deployments,
    loading,
    error,
    reload,
    create: (request: DeploymentRequest) => trader((c) => c.deployments.create({ payload: request })),
    start: (id: DeploymentId) => trader((c) => c.deployments.start({ path: { id } })),
    stop: (id: DeploymentId) => trader((c) => c.deployments.stop({ path: { id } })),
    kill: (id: DeploymentId) => trader((c) => c.deployments.kill({ path: { id } }))
  }
}

export interface DeploymentView {
  readonly deployment: Deployment
  readonly orders: ReadonlyArray<DeploymentOrder>
  readonly fills: ReadonlyArray<DeploymentFill>
  readonly audit: ReadonlyArray<AuditEntry>
}

/** One deployment and what it did; another deployment's view never shows under the chosen id. */
export const useDeployment = (id: () => DeploymentId | null) => {
  const view = ref<DeploymentView | null>(null)
  const error = ref<string | null>(null)
  let sequence = 0

  const reload = async () => {
    const mine = ++sequence
    const current = id()
    if (view.value !== null && view.value.deployment.id !== current) view.value = null
    if (current === null) {
      error.value = null
      return
    }
    const path = { id: current }
    const page = { limit: 500 }
    const [deployment, orders, fills, audit] = await Promise.all([
      trader((c) => c.deployments.get({ path })),
      trader((c) => c.deployments.orders({ path, urlParams: page })),
      trader((c) => c.deployments.fills({ path, urlParams: page })),
      trader((c) => c.deployments.audit({ path, urlParams: page }))
    ])
    if (mine !== sequence) return
    const failed = [deployment, orders, fills, audit].find((o) => !o.ok)
    if (failed !== undefined && !failed.ok) {
      error.value = failed.failure.message
      return
    }
    if (deployment.ok && orders.ok && fills.ok && audit.ok) {
      error.value = null
      view.value = {
        deployment: deployment.value,
        orders: orders.value,
        fills: fills.value,
        audit: audit.value
      }
    }
  }
  watch(id, reload, { immediate: true })
  usePolling(
    reload,
    () => POLL_MS,
    () => view.value !== null && isLive(view.value.deployment)
  )
  return { view, error, reload }
}
