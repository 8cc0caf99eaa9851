/**
 * Where live events come from, as BarSource is for history: in production the ProviderPool runs
 * each provider's active code in its sandbox (`LiveSource.pool`); tests and benchmarks run
 * provider objects in-process through the host's ProviderRunner (`LiveSource.inProcess`), with a
 * clock of their own shared with a fake exchange.
 *
 * A `Context.Reference` whose default refuses with a retryable error naming what is missing, so
 * an unwired build keeps its connections in backoff instead of putting subscriptions in error.
 */
import { type ProviderError, ProviderFatalError, ProviderRetryableError } from "@quasar/domain"
import { Context, Effect, Either, Layer, Stream } from "effect"
import { connectWebSocket } from "../../../../libs/providers/src/host/node/index"
import type { LiveEvent, LiveRequest, Provider } from "../../../../libs/providers/src/sdk/types"
import { providerErrorOf } from "../collect/PoolBarSource"
import { ProviderPool } from "../sandbox/ProviderPool"
import {
  type Connector,
  live,
  makeProviderContext,
  providerLogger,
  type RawSettings
} from "../sandbox/providerHost"

export interface LiveSourceService {
  /**
   * One connection's screened events; the stream fails when the connection ends (retryable: open
   * it again; fatal: it cannot work as configured). Nothing here reconnects.
   */
  readonly live: (provider: string, request: LiveRequest) => Stream.Stream<LiveEvent, ProviderError>
}

const UNWIRED =
  "no live source is wired into this DataHub (provide a ProviderPool-backed LiveSource layer); live streams wait"

const unknownProvider = (name: string) =>
  `no provider named "${name}": upload and activate it in the Registry first`

export interface InProcessOptions {
  /** The providers' clock (tests: accelerated, shared with the fake exchange). */
  readonly now?: () => number
  /** Opens sockets (default: Node's `ws`); a benchmark wraps it to look at raw frames. */
  readonly connect?: Connector
}

export class LiveSource extends Context.Reference<LiveSource>()("@quasar/datahub/live/LiveSource", {
  defaultValue: (): LiveSourceService => ({
    live: (provider) => Stream.fail(new ProviderRetryableError({ provider, message: UNWIRED }))
  })
}) {
  /** Provider objects run in this process; settings per provider name, checked against each spec. */
  static readonly inProcess = (
    providers: ReadonlyArray<Provider>,
    settingsByProvider: Readonly<Record<string, RawSettings>> = {},
    options: InProcessOptions = {}
  ): Layer.Layer<LiveSource> =>
    Layer.scoped(
      LiveSource,
      Effect.gen(function* () {
        const lifetime = new AbortController()
        yield* Effect.addFinalizer(() => Effect.sync(() => lifetime.abort()))
        const entries = yield* Effect.forEach(providers, (provider) =>
          Effect.map(providerLogger(provider.name), (logger) => {
            const ctx = makeProviderContext({
              provider,
              settings: settingsByProvider[provider.name] ?? {},
              connect: options.connect ?? connectWebSocket,
              logger,
              signal: lifetime.signal,
              ...(options.now ? { now: options.now } : {})
            })
            return [provider.name, { provider, ctx }] as const
          })
        )
        const byName = new Map(entries)
        return {
          live: (name, request) => {
            const entry = byName.get(name)
            if (!entry)
              return Stream.fail(new ProviderFatalError({ provider: name, message: unknownProvider(name) }))
            return Either.match(entry.ctx, {
              onLeft: (error) => Stream.fail(error),
              onRight: (ctx) => live(entry.provider, ctx, request)
            })
          }
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
