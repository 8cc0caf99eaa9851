/**
 * The production bar source: the ProviderPool runs each provider's active version in its
 * sandbox. Pool errors keep the scheduler's two classes: a provider that is not (or no longer)
 * runnable is fatal for the subscription, a database hiccup is retryable.
 */
import { ProviderFatalError, ProviderRetryableError } from "@quasar/domain"
import { Effect, Layer, Stream } from "effect"
import { ProviderPool } from "../sandbox/ProviderPool"
import { BarSource } from "./BarSource"

/** The pool's errors in the provider's two classes (shared with the live source). */
export const providerErrorOf =
  (provider: string) =>
  <E extends { readonly _tag: string; readonly message: string }>(e: E) =>
    e._tag === "NotFound"
      ? new ProviderFatalError({ provider, message: e.message })
      : e._tag === "ServiceUnavailable"
        ? new ProviderRetryableError({ provider, message: e.message })
        : (e as Exclude<E, { readonly _tag: "NotFound" | "ServiceUnavailable" }>)

export const PoolBarSource = Layer.effect(
  BarSource,
  Effect.map(ProviderPool, (pool) => ({
    history: (provider, request) =>
      pool.history(provider, request).pipe(Stream.mapError(providerErrorOf(provider))),
    describe: pool.describe
  }))
)
