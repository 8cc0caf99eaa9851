/**
 * Where live events come from, as BarSource is for history: in production the ProviderPool runs
 * each provider's active code in its sandbox (`LiveSource.pool`); tests and benchmarks run
 * provider objects in-process (`testing/InProcessSources.ts`) on a clock of their own shared with
 * a fake exchange.
 *
 * A required service: an app without a source does not type-check.
 */
import type { ProviderError } from "@quasar/domain"
import type { LiveEvent, LiveRequest } from "@quasar/providers/sdk"
import { Clock, Context, Effect, Layer, Stream } from "effect"
import { providerErrorOf } from "../collect/PoolBarSource"
import { ProviderPool } from "../sandbox/ProviderPool"

export interface LiveSourceService {
  /**
   * One connection's screened events; the stream fails when the connection ends (retryable: open
   * it again; fatal: it cannot work as configured). Nothing here reconnects.
   */
  readonly live: (provider: string, request: LiveRequest) => Stream.Stream<LiveEvent, ProviderError>
  /**
   * The time on the providers' clock, which their bars' open times follow: a gap fill asks history
   * up to the forming bar's open on it. The service's Clock in production; in tests, the clock the
   * in-process providers share with a fake exchange.
   */
  readonly now: Effect.Effect<number>
}

export class LiveSource extends Context.Tag("@quasar/datahub/live/LiveSource")<
  LiveSource,
  LiveSourceService
>() {
  /**
   * The sandboxes. A provider that is not (or no longer) runnable is fatal for its connection; a
   * pool that cannot tell now (database hiccup) and a crashed sandbox are worth another connect.
   */
  static readonly pool: Layer.Layer<LiveSource, never, ProviderPool> = Layer.effect(
    LiveSource,
    Effect.map(ProviderPool, (pool) => ({
      live: (provider, request) =>
        pool.live(provider, request).pipe(Stream.mapError(providerErrorOf(provider))),
      now: Clock.currentTimeMillis
    }))
  )
}
