/**
 * Tunables of the live streams and of the `/live` feed. A `Context.Reference`: the defaults apply
 * unless a layer provides other values (tests shorten every delay), so the app needs no wiring.
 */
import { Context, Duration } from "effect"
import type { RetryOptions } from "../sandbox/providerHost"

export interface LiveFeedLimits {
  /** Idle clients get a heartbeat this often: proxies (Nginx: 60 s) drop quieter connections. */
  readonly heartbeatEvery: Duration.Duration
  /**
   * Messages waiting for one client; past this the client is closed as too slow (4008). A client
   * watching 1,000 series gets each one's recent closed bars at once when a stream (re)connects
   * (a Kraken snapshot: 10 or more per series), so this is well above that; a waiting message is
   * a reference to the shared update, encoded only when sent.
   */
  readonly clientBuffer: number
  /** Bytes the socket may hold unsent for one client before its messages wait in the buffer. */
  readonly socketBufferBytes: number
  /** Series one client may watch at once. */
  readonly maxSeriesPerClient: number
}

export interface LiveConfigValues {
  /** No event at all (bar, heartbeat, ack) for this long: the connection is stale and reopened. */
  readonly staleAfter: Duration.Duration
  /**
   * A closed bar arriving after this long without any other event was closed by the provider's
   * timer on possibly stale values; history is asked for it again.
   */
  readonly suspectAfter: Duration.Duration
  /** Reconnect backoff, through the host's one provider retry policy (attempts are unlimited). */
  readonly reconnect: Pick<RetryOptions, "baseDelay" | "maxDelay">
  /** A connection that lived this long starts its next backoff from the first delay again. */
  readonly healthyAfter: Duration.Duration
  /** Retries of one gap fill (history); after them the fill is tried again after `reconnect` delays. */
  readonly fillRetry: RetryOptions
  /** Gap fills of one connection at once (the provider's token bucket paces them anyway). */
  readonly fillConcurrency: number
  /** Symbols added at runtime are gathered this long before the connection is reopened with them. */
  readonly changeDebounce: Duration.Duration
  /** How long a reopened connection may take to answer for every symbol before the old one closes. */
  readonly handoverTimeout: Duration.Duration
  /** Re-read of every live subscription, for changes whose notification was missed. */
  readonly reconcileEvery: Duration.Duration
  readonly feed: LiveFeedLimits
}

export const defaultLiveConfig: LiveConfigValues = {
  staleAfter: Duration.seconds(15),
  suspectAfter: Duration.seconds(3),
  reconnect: { baseDelay: Duration.seconds(1), maxDelay: Duration.minutes(1) },
  healthyAfter: Duration.seconds(30),
  fillRetry: { maxAttempts: 5, baseDelay: Duration.seconds(1), maxDelay: Duration.seconds(30) },
  fillConcurrency: 4,
  changeDebounce: Duration.millis(500),
  handoverTimeout: Duration.seconds(15),
  reconcileEvery: Duration.seconds(30),
  feed: {
    heartbeatEvery: Duration.seconds(20),
    clientBuffer: 50_000,
    socketBufferBytes: 1 << 20,
    maxSeriesPerClient: 1_000
  }
}

export class LiveConfig extends Context.Reference<LiveConfig>()("@quasar/datahub/live/LiveConfig", {
  defaultValue: () => defaultLiveConfig
}) {}
