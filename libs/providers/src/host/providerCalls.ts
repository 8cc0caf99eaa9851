/**
 * Runs provider calls as Effects: each call gets its own AbortController (aborted when the
 * Effect is interrupted, and when the context's own signal aborts), every result is screened
 * (see validation.ts) before anything downstream sees it, errors become the host's two error
 * classes, and each call gets a span and annotated logs.
 */
import { type ProviderError, ProviderFatalError, ProviderRetryableError } from "@quasar/domain"
import { Duration, Effect, Either, Metric, Option, Stream } from "effect"
import type {
  AssetInfo,
  HistoryRequest,
  LiveEvent,
  LiveRequest,
  Provider,
  ProviderContext,
  SettingsSpec
} from "../sdk/types"
import { withCallSignal } from "./context"
import { failFromProvider } from "./providerError"
import { type HistoryChunk, historyScreen, liveScreen, screenAssets } from "./validation"

export type { HistoryChunk } from "./validation"

export interface AssetListing {
  readonly assets: ReadonlyArray<AssetInfo>
  readonly rejected: ReadonlyArray<{ readonly asset: unknown; readonly reason: string }>
}

export interface CallOptions {
  /** How long one call (listAssets) or one page/event (history, live) may take. */
  readonly timeout?: Duration.DurationInput
}

const DEFAULT_CALL_TIMEOUT = Duration.minutes(1)
/** A provider that ignores its signal must not hold the host's fiber forever on close. */
const CLOSE_TIMEOUT = Duration.seconds(5)

const rejectedItems = Metric.counter("provider_rejected_items_total", {
  description: "Assets, bars and events a provider yielded that the host refused"
})

/** One warning per distinct reason (a broken page would otherwise log hundreds of lines). */
const reportRejections = (
  provider: string,
  kind: "asset" | "bar" | "event",
  rejected: ReadonlyArray<{ readonly reason: string }>
): Effect.Effect<void> => {
  if (rejected.length === 0) return Effect.void
  const byReason = new Map<string, number>()
  for (const { reason } of rejected) byReason.set(reason, (byReason.get(reason) ?? 0) + 1)
  return Effect.forEach(
    byReason,
    ([reason, count]) =>
      Effect.logWarning(`provider ${kind} rejected`).pipe(Effect.annotateLogs({ reason, count })),
    { discard: true }
  ).pipe(
    Effect.zipRight(
      Metric.incrementBy(
        rejectedItems.pipe(Metric.tagged("provider", provider), Metric.tagged("kind", kind)),
        rejected.length
      )
    )
  )
}

const timedOut = (provider: string, what: string, timeout: Duration.DurationInput) => () =>
  new ProviderRetryableError({ provider, message: `${what} timed out after ${Duration.format(timeout)}` })

const callSignal = (ctx: ProviderContext<SettingsSpec>, own: AbortSignal): AbortSignal =>
  AbortSignal.any([own, ctx.signal])

/**
 * An async iterable as a Stream. On close (end, failure, interruption, or the consumer
 * stopping early) the call's signal is aborted first, so a generator parked in an `await`
 * can settle, then `return()` lets it run its `finally` blocks.
 */
const iterate = <A, S extends SettingsSpec>(
  provider: Provider<S>,
  ctx: ProviderContext<S>,
  open: (ctx: ProviderContext<S>) => AsyncIterable<A>,
  what: string,
  timeout: Duration.DurationInput | undefined,
  annotations: Readonly<Record<string, string>>
): Stream.Stream<A, ProviderError> =>
  Stream.unwrapScoped(
    Effect.gen(function* () {
      const fail = failFromProvider(provider.name)
      const controller = new AbortController()
      const iterator = yield* Effect.acquireRelease(
        Effect.try({
          try: () => open(withCallSignal(ctx, callSignal(ctx, controller.signal)))[Symbol.asyncIterator](),
          catch: (e) => e
        }).pipe(
          Effect.catchAll(fail),
          Effect.tapError(() => Effect.sync(() => controller.abort())),
          Effect.annotateLogs(annotations)
        ),
        (it) =>
          Effect.tryPromise(async () => {
            await it.return?.()
          }).pipe(Effect.interruptible, Effect.timeout(CLOSE_TIMEOUT), Effect.ignore)
      )
      yield* Effect.addFinalizer(() => Effect.sync(() => controller.abort()))
      const next = Effect.tryPromise({ try: () => iterator.next(), catch: (e) => e }).pipe(
        Effect.catchAll(fail),
        (pull) =>
          timeout === undefined
            ? pull
            : Effect.timeoutFail(pull, {
                duration: timeout,
                onTimeout: timedOut(provider.name, what, timeout)
              }),
        Effect.annotateLogs(annotations)
      )
      return Stream.repeatEffectOption(
        next.pipe(
          Effect.mapError(Option.some),
          Effect.flatMap((r) => (r.done ? Effect.fail(Option.none()) : Effect.succeed(r.value)))
        )
      )
    })
  )

/** The provider's assets, each checked; invalid or duplicate ones are counted and left out. */
export const listAssets = <S extends SettingsSpec>(
  provider: Provider<S>,
  ctx: ProviderContext<S>,
  options: CallOptions = {}
): Effect.Effect<AssetListing, ProviderError> => {
  const timeout = options.timeout ?? DEFAULT_CALL_TIMEOUT
  return Effect.tryPromise({
    try: (signal) => provider.listAssets(withCallSignal(ctx, callSignal(ctx, signal))),
    catch: (e) => e
  }).pipe(
    Effect.catchAll(failFromProvider(provider.name)),
    Effect.timeoutFail({ duration: timeout, onTimeout: timedOut(provider.name, "listAssets", timeout) }),
    Effect.flatMap((assets) =>
      Array.isArray(assets)
        ? Effect.succeed(screenAssets(assets))
        : failFromProvider(provider.name)(new Error("listAssets did not return an array"))
    ),
    Effect.tap((listing) =>
      Effect.annotateLogs(Effect.logDebug("assets listed"), { assets: listing.assets.length })
    ),
    Effect.tap((listing) => reportRejections(provider.name, "asset", listing.rejected)),
    Effect.annotateLogs({ provider: provider.name }),
    Effect.withSpan("provider.listAssets", { attributes: { provider: provider.name } })
  )
}

const isPage = (page: unknown): page is { readonly bars: ReadonlyArray<unknown> } =>
  typeof page === "object" && page !== null && Array.isArray((page as { readonly bars?: unknown }).bars)

/**
 * Closed bars in [from, to), one chunk per provider page, each bar sound at `ctx.now()`;
 * everything else is in `rejected` with its reason, never in `bars`.
 */
export const history = <S extends SettingsSpec>(
  provider: Provider<S>,
  ctx: ProviderContext<S>,
  request: HistoryRequest,
  options: CallOptions = {}
): Stream.Stream<HistoryChunk, ProviderError> => {
  const annotations = { provider: provider.name, symbol: request.symbol, timeframe: request.timeframe }
  const screen = historyScreen(request)
  const pages = iterate(
    provider,
    ctx,
    (c) => provider.history(c, request),
    "history page",
    options.timeout ?? DEFAULT_CALL_TIMEOUT,
    annotations
  )
  return pages.pipe(
    Stream.mapEffect((page) => {
      if (!isPage(page))
        return failFromProvider(provider.name)(new Error("history page has no bars array")).pipe(
          Effect.annotateLogs(annotations)
        )
      const chunk = screen(page.bars, ctx.now())
      return reportRejections(provider.name, "bar", chunk.rejected).pipe(
        Effect.annotateLogs(annotations),
        Effect.as(chunk)
      )
    }),
    Stream.withSpan("provider.history", {
      attributes: { ...annotations, from: request.from, to: request.to }
    })
  )
}

/**
 * Live events with every bar screened like history (a forming bar may open "now", not later),
 * closed bars passed on once, and events for symbols not requested dropped. The stream ends
 * when the provider's connection ends; the caller reconnects and fills the gap.
 */
export const live = <S extends SettingsSpec>(
  provider: Provider<S>,
  ctx: ProviderContext<S>,
  request: LiveRequest,
  options: CallOptions = {}
): Stream.Stream<LiveEvent, ProviderError> => {
  const subscribe = provider.live
  if (!subscribe)
    return Stream.fail(
      new ProviderFatalError({ provider: provider.name, message: "provider has no live feed" })
    )
  const annotations = { provider: provider.name, timeframe: request.timeframe }
  const screen = liveScreen(request)
  const events = iterate(
    provider,
    ctx,
    (c) => subscribe.call(provider, c, request),
    "live event",
    options.timeout,
    annotations
  )
  return events.pipe(
    Stream.mapEffect((event) =>
      Either.match(screen(event, ctx.now()), {
        onRight: (e) => Effect.succeed(Option.some(e)),
        onLeft: (rejected) =>
          reportRejections(provider.name, "event", [rejected]).pipe(
            Effect.annotateLogs({ symbol: symbolOf(event) }),
            Effect.annotateLogs(annotations),
            Effect.as(Option.none<LiveEvent>())
          )
      })
    ),
    Stream.filterMap((e) => e),
    Stream.withSpan("provider.live", {
      attributes: { ...annotations, symbols: request.symbols.join(",") }
    })
  )
}

const symbolOf = (event: unknown): string | undefined =>
  typeof event === "object" && event !== null && "symbol" in event && typeof event.symbol === "string"
    ? event.symbol
    : undefined
