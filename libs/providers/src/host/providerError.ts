/**
 * What a provider throws, as the host's two error classes. Matching is by `name` as well as by
 * class: an uploaded provider may bundle its own copy of the SDK, whose classes are not ours.
 */
import { type ProviderError, ProviderFatalError, ProviderRetryableError } from "@quasar/domain"
import { Effect } from "effect"
import { FatalError, MalformedMessageError, RetryableError } from "../sdk/errors"

const named = (error: unknown, name: string): error is Error => error instanceof Error && error.name === name

const messageOf = (error: unknown): string =>
  error instanceof Error ? error.message : typeof error === "string" ? error : JSON.stringify(error)

/** Network failures of `fetch` are TypeErrors ("fetch failed", "Failed to fetch", "NetworkError…"). */
const isNetworkError = (error: unknown): boolean =>
  error instanceof TypeError && /fetch|network/i.test(error.message)

/** `AbortSignal.timeout` rejects with `TimeoutError`; some runtimes surface it as `AbortError`. */
const isTimeout = (error: unknown): boolean => named(error, "TimeoutError") || named(error, "AbortError")

export interface Classified {
  readonly error: ProviderError
  /** True when the provider threw something the SDK does not define: a bug on its side. */
  readonly bug: boolean
}

export const classifyProviderError = (provider: string, error: unknown): Classified => {
  if (error instanceof ProviderRetryableError || error instanceof ProviderFatalError)
    return { error, bug: false }
  if (error instanceof RetryableError || named(error, "RetryableError")) {
    const hint = (error as { readonly retryAfterMs?: unknown }).retryAfterMs
    return {
      error: new ProviderRetryableError({
        provider,
        message: error.message,
        retryAfterMs: typeof hint === "number" && Number.isFinite(hint) ? hint : undefined
      }),
      bug: false
    }
  }
  if (error instanceof FatalError || named(error, "FatalError"))
    return { error: new ProviderFatalError({ provider, message: error.message }), bug: false }
  if (error instanceof MalformedMessageError || named(error, "MalformedMessageError"))
    return {
      error: new ProviderRetryableError({ provider, message: `malformed message: ${error.message}` }),
      bug: false
    }
  if (isNetworkError(error) || isTimeout(error))
    return { error: new ProviderRetryableError({ provider, message: messageOf(error) }), bug: false }
  return {
    error: new ProviderRetryableError({ provider, message: `provider bug: ${messageOf(error)}` }),
    bug: true
  }
}

/** Fails with the classified error, logging the ones that are bugs in the provider. */
export const failFromProvider =
  (provider: string) =>
  (error: unknown): Effect.Effect<never, ProviderError> => {
    const { error: mapped, bug } = classifyProviderError(provider, error)
    return bug
      ? Effect.logError("provider threw an undeclared error").pipe(
          Effect.annotateLogs({ provider, error: messageOf(error) }),
          Effect.zipRight(Effect.fail(mapped))
        )
      : Effect.fail(mapped)
  }
