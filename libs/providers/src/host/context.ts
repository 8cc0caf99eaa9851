/**
 * Builds the `ProviderContext` a provider receives: settings checked against its spec with
 * defaults applied, `fetch` through the provider's shared token bucket and aborted with the
 * signal (and a per-request timeout), the WebSocket connector and logger the host chooses.
 */
import { ProviderFatalError } from "@quasar/domain"
import { Either } from "effect"
import type { Logger, Provider, ProviderContext, SettingsSpec, SocketConnection } from "../sdk/types"
import { formatSettingsProblems, type RawSettings, resolveSettings } from "./settings"
import { sharedTokenBuckets, type TokenBucketRegistry } from "./TokenBucket"

export type Connector = (url: string, signal: AbortSignal) => Promise<SocketConnection>

export interface ProviderContextOptions<S extends SettingsSpec> {
  /** A provider or a broker: what the context needs of either. */
  readonly provider: Pick<Provider<S>, "name" | "settings" | "rateLimit">
  /** Stored values; checked against `provider.settings`, defaults applied. */
  readonly settings: RawSettings
  /** The underlying fetch (default: the global one); tests pass a fake. */
  readonly fetch?: typeof globalThis.fetch
  readonly connect: Connector
  readonly logger: Logger
  readonly now?: () => number
  /** Aborts every request and socket made through this context. */
  readonly signal: AbortSignal
  /** Where the provider's bucket lives (default: the process-wide registry). */
  readonly buckets?: TokenBucketRegistry
  /** A request that has not completed by then fails with a `TimeoutError` (default 30 s). */
  readonly requestTimeoutMs?: number
}

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000

const firstAbortOf = (signals: ReadonlyArray<AbortSignal | null | undefined>): AbortSignal => {
  const present = signals.filter((s): s is AbortSignal => s != null)
  return present.length === 1 ? present[0]! : AbortSignal.any(present)
}

/** The context for a provider, or a fatal error naming every settings problem. */
export const makeProviderContext = <S extends SettingsSpec>(
  options: ProviderContextOptions<S>
): Either.Either<ProviderContext<S>, ProviderFatalError> => {
  const { provider, signal } = options
  const settings = resolveSettings(provider.settings, options.settings)
  if (Either.isLeft(settings))
    return Either.left(
      new ProviderFatalError({
        provider: provider.name,
        message: `invalid settings: ${formatSettingsProblems(settings.left)}`
      })
    )
  const doFetch = options.fetch ?? globalThis.fetch
  const timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
  const bucket = provider.rateLimit
    ? (options.buckets ?? sharedTokenBuckets).forProvider(provider.name, provider.rateLimit)
    : undefined
  return Either.right({
    settings: settings.right,
    fetch: async (input, init) => {
      const cancel = firstAbortOf([signal, init?.signal])
      await bucket?.take(cancel)
      // The timeout starts once the request may go: waiting for a token is not the API's fault.
      return doFetch(input, { ...init, signal: firstAbortOf([cancel, AbortSignal.timeout(timeoutMs)]) })
    },
    connect: (url) => options.connect(url, signal),
    log: options.logger,
    signal,
    now: options.now ?? Date.now
  })
}

/**
 * The same context bound to one call's signal: requests and sockets opened during the call end
 * when the call is cancelled, even though the SDK's `connect` takes no signal of its own.
 */
export const withCallSignal = <S extends SettingsSpec>(
  ctx: ProviderContext<S>,
  callSignal: AbortSignal
): ProviderContext<S> => ({
  ...ctx,
  signal: callSignal,
  fetch: (input, init) => ctx.fetch(input, { ...init, signal: firstAbortOf([callSignal, init?.signal]) }),
  connect: async (url) => {
    const socket = await ctx.connect(url)
    if (callSignal.aborted) socket.close(1000, "cancelled")
    else callSignal.addEventListener("abort", () => socket.close(1000, "cancelled"), { once: true })
    return socket
  }
})
