/**
 * The `ctx` each call of sandboxed code gets: the settings the host resolved, `fetch` and
 * `connect` relayed to the host (fetch paced by the code's rate limit), the call's own logger, and
 * the call's signal. Sockets live as long as the runner serves, not one call.
 */
import { type makeTokenBucket, withCallSignal } from "@quasar/providers/host"
import type { Logger, ProviderContext, SettingsSpec, SettingsValues } from "@quasar/providers/sdk"
import { makeChildFetch } from "../../egress/childFetch"
import { makeSocketConnector } from "../../egress/webSocketConnection"

export interface ChildContextsOptions {
  /** The code's rate limit, or none. */
  readonly bucket: ReturnType<typeof makeTokenBucket> | undefined
  readonly loggerFor: (call?: number) => Logger
  /** How long one request may take once it may go. */
  readonly requestTimeoutMs: number
}

/**
 * `contextFor` gives call `id` its context; `receive` takes any host message, of which the relay's
 * fetch and socket replies are its.
 */
export const makeChildContexts = (
  post: Parameters<typeof makeChildFetch>[0] & Parameters<typeof makeSocketConnector>[0],
  options: ChildContextsOptions
) => {
  const lifetime = new AbortController()
  const relayedFetch = makeChildFetch(post)
  const relayedSocket = makeSocketConnector(post)

  const contextFor = (
    id: number,
    settings: Readonly<Record<string, unknown>>,
    signal: AbortSignal
  ): ProviderContext =>
    withCallSignal(
      {
        // The host resolved these against the code's own settings spec.
        settings: settings as SettingsValues<SettingsSpec>,
        fetch: async (input, init) => {
          const cancel = init?.signal ?? undefined
          await options.bucket?.take(cancel)
          // The timeout starts once the request may go: waiting for a token is not the API's fault.
          const timeout = AbortSignal.timeout(options.requestTimeoutMs)
          return relayedFetch.fetch(input, {
            ...init,
            signal: cancel ? AbortSignal.any([cancel, timeout]) : timeout
          })
        },
        connect: (url) => relayedSocket.connect(url, lifetime.signal),
        log: options.loggerFor(id),
        signal: lifetime.signal,
        now: Date.now
      },
      signal
    )

  const receive = (message: object) => {
    relayedFetch.receive(message)
    relayedSocket.receive(message)
  }

  return { contextFor, receive }
}
