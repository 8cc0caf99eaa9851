/**
 * Tunables of the history scheduler. A `Context.Reference`: the defaults apply unless a layer
 * provides other values (tests shorten the delays), so the app needs no extra wiring for them.
 */
import { type Clock, Context, Duration } from "effect"
import type { RetryOptions } from "../sandbox/providerHost"

export interface CollectionConfigValues {
  /** Extra wait after a bar closes (+ the provider's publish delay) before asking for it: clock skew. */
  readonly marginMs: number
  /** Bars per run at most; a longer backfill is several runs, each recorded, each bounded in time. */
  readonly maxBarsPerRun: number
  /** A whole run (all its pages and retries) is abandoned after this; its committed pages stay. */
  readonly runTimeout: Duration.Duration
  /** Retries inside a run: the host's provider policy with these options. */
  readonly retry: RetryOptions
  /** After a run spent its retries: wait `base`, doubling per consecutive failure, up to `max`. */
  readonly failureDelay: { readonly base: Duration.Duration; readonly max: Duration.Duration }
  /** How often a current subscription's stored bars are scanned for holes. */
  readonly gapScanEvery: Duration.Duration
  /** Holes re-requested per scan at most (the next scan takes the rest). */
  readonly gapsPerScan: number
  /** 24/7 markets: a hole that came back empty is asked again after this, up to `maxEmptyAttempts`. */
  readonly emptyRecheckAfter: Duration.Duration
  readonly maxEmptyAttempts: number
  /** Re-read of every subscription, for changes whose notification was missed. */
  readonly reconcileEvery: Duration.Duration
  /** Runs of one provider at once, shared by all its subscriptions (rate limits are separate). */
  readonly concurrency: {
    readonly perProvider: number
    readonly byProvider: Readonly<Record<string, number>>
  }
  /** While the database is unreachable: first wait, doubling up to the cap. */
  readonly databaseRetry: { readonly base: Duration.Duration; readonly max: Duration.Duration }
  /**
   * The collection loops' time, when not the service's own: tests run an accelerated clock (shared
   * with the provider's `now`) to see many bar closes in seconds without speeding up everything else.
   */
  readonly clock?: Clock.Clock
}

export const defaultCollectionConfig: CollectionConfigValues = {
  marginMs: 2_000,
  maxBarsPerRun: 50_000,
  runTimeout: Duration.minutes(10),
  retry: { maxAttempts: 5, baseDelay: Duration.seconds(1), maxDelay: Duration.minutes(1) },
  failureDelay: { base: Duration.seconds(30), max: Duration.minutes(30) },
  gapScanEvery: Duration.hours(1),
  gapsPerScan: 20,
  emptyRecheckAfter: Duration.hours(1),
  maxEmptyAttempts: 3,
  reconcileEvery: Duration.seconds(30),
  concurrency: { perProvider: 2, byProvider: {} },
  databaseRetry: { base: Duration.millis(500), max: Duration.seconds(5) }
}

export class CollectionConfig extends Context.Reference<CollectionConfig>()(
  "@quasar/datahub/collect/CollectionConfig",
  { defaultValue: () => defaultCollectionConfig }
) {}
