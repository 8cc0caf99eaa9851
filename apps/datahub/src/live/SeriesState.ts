/**
 * What a connection knows about each of its series, kept outside the connection's fiber so a
 * crash-restart or a reconnect loses none of it.
 *
 * A series' stream is trusted only once the gap before it is filled: `waiting` from a (re)connect
 * until the provider answers for the symbol, `filling` while history is asked for the bars since
 * the last stored one, then `trusted`. Until then its closed bars are held, not written, so the
 * history versions of the same bars land first and win.
 */
import type { Timeframe } from "@quasar/domain"
import type { ProviderBar } from "@quasar/providers/sdk"

export type Phase = "waiting" | "filling" | "trusted"

export interface SeriesState {
  readonly id: number
  readonly symbol: string
  /** `both`: history is collected too (the scheduler's versions of closed bars win). */
  mode: "live" | "both"
  /** Open time of the newest closed bar stored or handed to the writer; undefined: none yet. */
  lastClosed: number | undefined
  phase: Phase
  /** Closed bars from the stream held while the series is not trusted, in arrival order. */
  held: ReadonlyArray<ProviderBar>
  /** The oldest closed bar that arrived while the connection was silent: to be asked from history again. */
  suspectFrom: number | undefined
}

export const newSeries = (
  id: number,
  symbol: string,
  mode: "live" | "both",
  lastStored: number | undefined
): SeriesState => ({
  id,
  symbol,
  mode,
  lastClosed: lastStored,
  phase: "waiting",
  held: [],
  suspectFrom: undefined
})

export type ConnectionState = "connecting" | "connected" | "backoff" | "stopped"

/** One connection's state as the status API shows it (times on the service's Clock, when things happened here). */
export interface ConnectionStatus {
  readonly provider: string
  readonly timeframe: Timeframe.Timeframe
  state: ConnectionState
  connectedSince: number | null
  lastMessageAt: number | null
  reconnects: number
  lastError: string | null
}

/**
 * The held bars that still need writing once the gap before them is filled: newer than what was
 * stored before the gap (a snapshot repeats stored bars; their stored version may be history's)
 * and not among the bars history just delivered (history's version wins), oldest first.
 */
export const releasable = (
  held: ReadonlyArray<ProviderBar>,
  storedUntil: number | undefined,
  filled: { has(ts: number): boolean }
): Array<ProviderBar> => {
  const byTs = new Map<number, ProviderBar>()
  for (const bar of held)
    if ((storedUntil === undefined || bar.ts > storedUntil) && !filled.has(bar.ts)) byTs.set(bar.ts, bar)
  return [...byTs.values()].sort((a, b) => a.ts - b.ts)
}
