/**
 * Provider objects run in this process through the host (screening, timeouts, rate limits via
 * the shared token buckets): what the in-process sources stand on, for
 * tests and benchmarks. Settings are per provider name and checked against each spec; bad
 * settings make every call of that provider fail as fatal, naming the problem.
 */
import { ProviderFatalError } from "@quasar/domain"
import { connectWebSocket } from "@quasar/providers/host/node"
import type { Provider, ProviderContext } from "@quasar/providers/sdk"
import { Effect, Either, type Scope, Stream } from "effect"
import {
  type Connector,
  makeProviderContext,
  providerLogger,
  type RawSettings
} from "../sandbox/providerHost"

export interface InProcessOptions {
  /** The providers' clock (tests: accelerated, shared with the fake exchange). */
  readonly now?: () => number
  /** Opens sockets (default: Node's `ws`); a benchmark wraps it to look at raw frames. */
  readonly connect?: Connector
}

export const unknownProvider = (name: string) =>
  `no provider named "${name}": upload and activate it in the Registry first`

export interface InProcessProviders {
  readonly get: (name: string) => Provider | undefined
  /** `f` with the provider's context, or a failed stream saying why there is none. */
  readonly stream: <A, E>(
    name: string,
    f: (provider: Provider, ctx: ProviderContext) => Stream.Stream<A, E>
  ) => Stream.Stream<A, E | ProviderFatalError>
}

export const inProcessProviders = (
  providers: ReadonlyArray<Provider>,
  settingsByProvider: Readonly<Record<string, RawSettings>>,
  options: InProcessOptions
): Effect.Effect<InProcessProviders, never, Scope.Scope> =>
  Effect.gen(function* () {
    const lifetime = new AbortController()
    yield* Effect.addFinalizer(() => Effect.sync(() => lifetime.abort()))
    const entries = yield* Effect.forEach(providers, (provider) =>
      Effect.flatMap(providerLogger(provider.name), (logger) => {
        const ctx = makeProviderContext({
          provider,
          settings: settingsByProvider[provider.name] ?? {},
          connect: options.connect ?? connectWebSocket,
          logger,
          signal: lifetime.signal,
          ...(options.now ? { now: options.now } : {})
        })
        const entry = [provider.name, { provider, ctx }] as const
        // Settings are fixed for the process: said once here, at warn, not by every loop using it.
        return Either.isLeft(ctx)
          ? Effect.as(
              Effect.logWarning(
                `provider "${provider.name}" cannot run until its settings are fixed: ${ctx.left.message}`
              ).pipe(Effect.annotateLogs({ provider: provider.name })),
              entry
            )
          : Effect.succeed(entry)
      })
    )
    const byName = new Map(entries)
    return {
      get: (name) => byName.get(name)?.provider,
      stream: (name, f) => {
        const entry = byName.get(name)
        if (!entry)
          return Stream.fail(new ProviderFatalError({ provider: name, message: unknownProvider(name) }))
        return Either.match(entry.ctx, {
          onLeft: (error) => Stream.fail(error),
          onRight: (ctx) => f(entry.provider, ctx)
        })
      }
    }
  })
