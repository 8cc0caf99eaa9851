/**
 * Where collected bars come from. The scheduler only knows this interface: in production the
 * ProviderPool runs each provider's active code in its sandbox; tests and benchmarks run
 * provider objects in-process through the host's provider calls (`BarSource.inProcess`).
 * A required service: an app without a source does not type-check.
 */
import { NotFound, type ProviderError, type ServiceUnavailable } from "@quasar/domain"
import { Context, Effect, Layer, type Stream } from "effect"
import type { HistoryRequest, Provider, Timeframe } from "../../../../libs/providers/src/sdk/types"
import { type HistoryChunk, history, type RawSettings } from "../sandbox/providerHost"
import { inProcessProviders, unknownProvider } from "./InProcessProviders"

export type { HistoryRequest } from "../../../../libs/providers/src/sdk/types"
export type { HistoryChunk } from "../sandbox/providerHost"

/** What the scheduler needs to know about a provider before asking it for bars. */
export interface ProviderDescription {
  readonly name: string
  readonly timeframes: ReadonlyArray<Timeframe>
  /** How long after a bar closes the provider has it (EODHD daily: hours); 0 when immediate. */
  readonly publishDelayMs: number
}

export interface BarSourceService {
  /**
   * Closed, screened bars in [from, to), one chunk per provider page, pulled one at a time.
   * Retryable vs fatal failures keep their class; nothing here retries.
   */
  readonly history: (provider: string, request: HistoryRequest) => Stream.Stream<HistoryChunk, ProviderError>
  /** NotFound when no such provider runs here; ServiceUnavailable when that cannot be told now. */
  readonly describe: (provider: string) => Effect.Effect<ProviderDescription, NotFound | ServiceUnavailable>
}

export class BarSource extends Context.Tag("@quasar/datahub/collect/BarSource")<
  BarSource,
  BarSourceService
>() {
  /**
   * Provider objects run in this process through the host (screening, timeouts, rate limits via
   * the shared token buckets). Settings are per provider name, checked against each spec; bad
   * settings make every call of that provider fail as fatal, naming the problem.
   */
  static readonly inProcess = (
    providers: ReadonlyArray<Provider>,
    settingsByProvider: Readonly<Record<string, RawSettings>> = {},
    now?: () => number
  ): Layer.Layer<BarSource> =>
    Layer.scoped(
      BarSource,
      Effect.gen(function* () {
        const running = yield* inProcessProviders(providers, settingsByProvider, now ? { now } : {})
        return {
          history: (name, request) =>
            running.stream(name, (provider, ctx) => history(provider, ctx, request)),
          describe: (name) => {
            const provider = running.get(name)
            return provider
              ? Effect.succeed({
                  name,
                  timeframes: provider.timeframes,
                  publishDelayMs: provider.publishDelayMs ?? 0
                })
              : Effect.fail(new NotFound({ message: unknownProvider(name) }))
          }
        } satisfies BarSourceService
      })
    )
}
