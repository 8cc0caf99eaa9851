/**
 * The live connections' state as the status API and the metrics show it. Connections change
 * their own records; every state change goes through `setState`, which keeps the
 * `quasar_live_connections` gauge (connected connections per provider) in step.
 */
import { LiveStatus, ProviderName, SubscriptionId, Timeframe } from "@quasar/domain"
import { Metrics } from "@quasar/server"
import { DateTime, Effect, Metric } from "effect"
import type { ConnectionState, ConnectionStatus, SeriesState } from "./SeriesState"

export interface ConnectionView {
  readonly status: ConnectionStatus
  readonly series: ReadonlyMap<string, SeriesState>
  /** Symbols the open connection asked the provider for. */
  readonly symbols: () => ReadonlyArray<string>
}

const time = (ms: number | null) => (ms === null ? null : DateTime.unsafeMake(ms))

export class StatusBoard {
  private readonly views = new Set<ConnectionView>()

  add(view: ConnectionView): void {
    this.views.add(view)
  }

  remove(view: ConnectionView): Effect.Effect<void> {
    this.views.delete(view)
    return this.report(view.status.provider)
  }

  setState(status: ConnectionStatus, state: ConnectionState, now: number): Effect.Effect<void> {
    if (status.state === state) return Effect.void
    status.state = state
    status.connectedSince =
      state === "connected" ? now : state === "connecting" ? status.connectedSince : null
    return this.report(status.provider)
  }

  private report(provider: string): Effect.Effect<void> {
    let connected = 0
    for (const v of this.views)
      if (v.status.provider === provider && v.status.state === "connected") connected++
    return Metric.set(Metric.tagged(Metrics.liveConnections, "provider", provider), connected)
  }

  snapshot(now: number, clients: number): typeof LiveStatus.Type {
    const views = [...this.views]
    return LiveStatus.make({
      connections: views.map(({ status, symbols }) => ({
        provider: ProviderName.make(status.provider),
        timeframe: status.timeframe,
        state: status.state,
        connectedSince: time(status.connectedSince),
        lastMessageAt: time(status.lastMessageAt),
        reconnects: status.reconnects,
        lastError: status.lastError,
        symbols: symbols()
      })),
      subscriptions: views.flatMap(({ status, series }) =>
        [...series.values()].map((s) => {
          const closesAt =
            s.lastClosed === undefined ? null : s.lastClosed + Timeframe.durationMs(status.timeframe)
          return {
            subscription: SubscriptionId.make(s.id),
            provider: ProviderName.make(status.provider),
            symbol: s.symbol,
            timeframe: status.timeframe,
            lastClosedBarAt: time(s.lastClosed ?? null),
            lagSeconds: closesAt === null ? null : Math.max(0, (now - closesAt) / 1000)
          }
        })
      ),
      clients
    })
  }
}
