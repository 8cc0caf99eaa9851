/**
 * Where live events come from, as BarSource is for history: in production the ProviderPool runs
 * each provider's active code in its sandbox (`LiveSource.pool`); tests and benchmarks run
 * provider objects in-process through the host's provider calls (`LiveSource.inProcess`), with a
 * clock of their own shared with a fake exchange.
 * A required service: an app without a source does not type-check.
 */
import type { ProviderError } from "@quasar/domain"
import { Context, Effect, Layer, Stream } from "effect"
import type { LiveEvent, LiveRequest, Provider } from "../../../../libs/providers/src/sdk/types"
import { type InProcessOptions, inProcessProviders } from "../collect/InProcessProviders"
import { providerErrorOf } from "../collect/PoolBarSource"
import { ProviderPool } from "../sandbox/ProviderPool"
import { live, type RawSettings } from "../sandbox/providerHost"

export interface LiveSourceService {
  /**
   * One connection's screened events; the stream fails when the connection ends (retryable: open
   * it again; fatal: it cannot work as configured). Nothing here reconnects.
   */
  readonly live: (provider: string, request: LiveRequest) => Stream.Stream<LiveEvent, ProviderError>
}

export type { InProcessOptions } from "../collect/InProcessProviders"

export class LiveSource extends Context.Tag("@quasar/datahub/live/LiveSource")<
  LiveSource,
  LiveSourceService
>() {
  /** Provider objects run in this process; settings per provider name, checked against each spec. */
  static readonly inProcess = (
    providers: ReadonlyArray<Provider>,
    settingsByProvider: Readonly<Record<string, RawSettings>> = {},
    options: InProcessOptions = {}
  ): Layer.Layer<LiveSource> =>
    Layer.scoped(
      LiveSource,
      Effect.gen(function* () {
        const running = yield* inProcessProviders(providers, settingsByProvider, options)
        return {
          live: (name, request) => running.stream(name, (provider, ctx) => live(provider, ctx, request))
        } satisfies LiveSourceService
      })
    )

  /**
   * The sandboxes. A provider that is not (or no longer) runnable is fatal for its connection; a
   * pool that cannot tell now (database hiccup) and a crashed sandbox are worth another connect.
   */
  static readonly pool: Layer.Layer<LiveSource, never, ProviderPool> = Layer.effect(
    LiveSource,
    Effect.map(ProviderPool, (pool) => ({
      live: (provider, request) =>
        pool.live(provider, request).pipe(Stream.mapError(providerErrorOf(provider)))
    }))
  )
}
