/**
 * Where collected bars come from. The scheduler only knows this interface: in production the
 * ProviderPool runs each provider's active code in its sandbox; tests and benchmarks run
 * provider objects in-process through the host's ProviderRunner (`BarSource.inProcess`).
 *
 * A `Context.Reference` whose default refuses every call with a message saying what is missing,
 * so the app builds before a real source is wired, and a test can provide its own from outside.
 */
import {
  NotFound,
  type ProviderError,
  ProviderFatalError,
  ProviderRetryableError,
  ServiceUnavailable
} from "@quasar/domain"
import { Context, Effect, Either, Layer, Stream } from "effect"
// The Node WebSocket connector is not part of the host's runtime-neutral index.
import { connectWebSocket } from "../../../../libs/providers/src/host/node/index"
import type { HistoryRequest, Provider, Timeframe } from "../../../../libs/providers/src/sdk/types"
import {
  type HistoryChunk,
  history,
  makeProviderContext,
  providerLogger,
  type RawSettings
} from "../sandbox/providerHost"

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

const UNWIRED =
  "no bar source is wired into this DataHub (provide a ProviderPool-backed BarSource layer); collection waits"

/** Unavailable rather than "not found": an unwired build must not put every subscription in error. */
const unwired: BarSourceService = {
  history: (provider) => Stream.fail(new ProviderRetryableError({ provider, message: UNWIRED })),
  describe: () => Effect.fail(new ServiceUnavailable({ message: UNWIRED }))
}

const unknownProvider = (name: string) =>
  `no provider named "${name}": upload and activate it in the Registry first`

export class BarSource extends Context.Reference<BarSource>()("@quasar/datahub/collect/BarSource", {
  defaultValue: (): BarSourceService => unwired
}) {
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
        const lifetime = new AbortController()
        yield* Effect.addFinalizer(() => Effect.sync(() => lifetime.abort()))
        const entries = yield* Effect.forEach(providers, (provider) =>
          Effect.map(providerLogger(provider.name), (logger) => {
            const ctx = makeProviderContext({
              provider,
              settings: settingsByProvider[provider.name] ?? {},
              connect: connectWebSocket,
              logger,
              signal: lifetime.signal,
              ...(now ? { now } : {})
            })
            return [provider.name, { provider, ctx }] as const
          })
        )
        const byName = new Map(entries)
        return {
          history: (name, request) => {
            const entry = byName.get(name)
            if (!entry)
              return Stream.fail(new ProviderFatalError({ provider: name, message: unknownProvider(name) }))
            return Either.match(entry.ctx, {
              onLeft: (error) => Stream.fail(error),
              onRight: (ctx) => history(entry.provider, ctx, request)
            })
          },
          describe: (name) => {
            const entry = byName.get(name)
            return entry
              ? Effect.succeed({
                  name,
                  timeframes: entry.provider.timeframes,
                  publishDelayMs: entry.provider.publishDelayMs ?? 0
                })
              : Effect.fail(new NotFound({ message: unknownProvider(name) }))
          }
        } satisfies BarSourceService
      })
    )
}
