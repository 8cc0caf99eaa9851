/**
 * The metrics both services export on `GET /metrics` (Prometheus text format) and over OTLP
 * when configured. Defined once here so names and tags stay consistent across the code base.
 */
import { Effect, Metric, MetricBoundaries, MetricState, Option } from "effect"

const seconds = MetricBoundaries.exponential({ start: 0.001, factor: 2, count: 16 })

export const httpRequests = Metric.counter("quasar_http_requests_total", {
  description: "HTTP requests answered, by method, route and status",
  incremental: true
})
export const httpDuration = Metric.histogram(
  "quasar_http_request_duration_seconds",
  seconds,
  "HTTP request duration"
)

export const collectionRuns = Metric.counter("quasar_collection_runs_total", {
  description: "Historical collection runs, by provider and outcome (ok, retried, failed)",
  incremental: true
})
export const barsWritten = Metric.counter("quasar_bars_written_total", {
  description: "Bars committed, by target table",
  incremental: true
})
export const writeLatency = Metric.histogram(
  "quasar_write_batch_seconds",
  seconds,
  "Time to commit one writer batch"
)
export const writerQueueDepth = Metric.gauge("quasar_writer_queue_depth", {
  description: "Rows waiting in the bar writer's queue"
})
export const liveConnections = Metric.gauge("quasar_live_connections", {
  description: "Open provider live connections, by provider"
})
export const liveReconnects = Metric.counter("quasar_live_reconnects_total", {
  description: "Provider live reconnects, by provider",
  incremental: true
})

/** DataHub as a cluster; @effect/cluster's own gauges (`effect_cluster_shards`, `_runners`, …) come along. */
export const providersOwned = Metric.gauge("quasar_cluster_providers_owned", {
  description: "Providers this DataHub runner owns (collects and streams) now"
})
export const providerHandoffs = Metric.counter("quasar_cluster_handoffs_total", {
  description: "Providers that came to this runner (kind=gained) or left it (kind=lost), by provider",
  incremental: true
})

export const unownedSeconds = Metric.histogram(
  "quasar_cluster_unowned_seconds",
  MetricBoundaries.exponential({ start: 0.25, factor: 2, count: 10 }),
  "How long a provider had no owner before a runner took it over (handoffs and failovers)"
)

const escapeLabel = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")

const labels = (tags: ReadonlyArray<{ key: string; value: string }>, extra?: [string, string]) => {
  const all = extra
    ? [...tags.map((t) => [t.key, t.value] as const), extra]
    : tags.map((t) => [t.key, t.value] as const)
  return all.length === 0 ? "" : `{${all.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`
}

/** Every registered metric in the Prometheus text exposition format (version 0.0.4). */
export const prometheusText: Effect.Effect<string> = Effect.map(Metric.snapshot, (pairs) => {
  const lines: Array<string> = []
  const described = new Set<string>()
  const header = (name: string, type: string, description: Option.Option<string>) => {
    if (described.has(name)) return
    described.add(name)
    if (Option.isSome(description)) lines.push(`# HELP ${name} ${description.value}`)
    lines.push(`# TYPE ${name} ${type}`)
  }
  for (const { metricKey: key, metricState: state } of pairs) {
    const { name, tags, description } = key
    if (MetricState.isCounterState(state)) {
      header(name, "counter", description)
      lines.push(`${name}${labels(tags)} ${Number(state.count)}`)
    } else if (MetricState.isGaugeState(state)) {
      header(name, "gauge", description)
      lines.push(`${name}${labels(tags)} ${Number(state.value)}`)
    } else if (MetricState.isHistogramState(state)) {
      header(name, "histogram", description)
      for (const [le, count] of state.buckets)
        lines.push(`${name}_bucket${labels(tags, ["le", String(le)])} ${count}`)
      lines.push(`${name}_bucket${labels(tags, ["le", "+Inf"])} ${state.count}`)
      lines.push(`${name}_sum${labels(tags)} ${state.sum}`)
      lines.push(`${name}_count${labels(tags)} ${state.count}`)
    } else if (MetricState.isFrequencyState(state)) {
      header(name, "counter", description)
      for (const [value, count] of state.occurrences)
        lines.push(`${name}${labels(tags, ["value", value])} ${count}`)
    }
  }
  return `${lines.join("\n")}\n`
})
