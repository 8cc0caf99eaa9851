/**
 * Runs the active version of each uploaded provider: one sandbox per (name, version), started on
 * first use, restarted with exponential backoff after a crash, stopped when another version
 * becomes current (the RegistryCatalog's changes, plus a periodic re-read) or after an idle spell.
 * Every result is screened by the host's validation before a caller sees it: the child is not
 * trusted, so its own checks count for nothing.
 */
import {
  type NotFound,
  type ProviderError,
  ProviderFatalError,
  type ServiceUnavailable
} from "@quasar/domain"
import type { HistoryRequest, LiveEvent, LiveRequest, Timeframe } from "@quasar/providers/sdk"
import { Chunk, Context, Duration, Effect, Either, Layer, Schedule, Stream } from "effect"
import { RegistryCatalog } from "../catalog/RegistryCatalog"
import { ActiveCode, type ActiveVersion } from "./ActiveCode"
import type { Sandbox } from "./ProviderSandbox"
import type { CallSettings } from "./protocol"
import {
  type AssetListing,
  failFromProvider,
  type HistoryChunk,
  historyScreen,
  liveScreen,
  screenAssets
} from "./providerHost"
import { SandboxSlots, type SandboxStatus } from "./SandboxSlots"

export type PoolError = NotFound | ServiceUnavailable | ProviderError

export interface ProviderPoolService {
  /** The active version's assets, screened (invalid and duplicate ones are in `rejected`). */
  readonly listAssets: (name: string) => Effect.Effect<AssetListing, PoolError>
  /** Closed, sound bars in [from, to), one chunk per provider page (pulled one at a time). */
  readonly history: (name: string, request: HistoryRequest) => Stream.Stream<HistoryChunk, PoolError>
  /** One connection's live events, screened; ends or fails when the provider's connection does. */
  readonly live: (name: string, request: LiveRequest) => Stream.Stream<LiveEvent, PoolError>
  /** The active version's timeframes and publish delay. */
  readonly describe: (
    name: string
  ) => Effect.Effect<
    { readonly name: string; readonly timeframes: ReadonlyArray<Timeframe>; readonly publishDelayMs: number },
    NotFound | ServiceUnavailable
  >
  /** The sandboxes the pool holds, for status pages and tests. */
  readonly sandboxes: Effect.Effect<ReadonlyArray<SandboxStatus>>
}

const RECONCILE_EVERY = Duration.seconds(30)
type Rejections = ReadonlyArray<{ readonly reason: string }>

/** One warning per distinct reason: a broken page would otherwise log hundreds of lines. */
const reportRejections = (kind: "asset" | "bar" | "event", rejected: Rejections) =>
  Effect.forEach(
    rejected.reduce((m, { reason }) => m.set(reason, (m.get(reason) ?? 0) + 1), new Map<string, number>()),
    ([reason, count]) =>
      Effect.logWarning(`provider ${kind} rejected`).pipe(Effect.annotateLogs({ reason, count })),
    { discard: true }
  )

const make = Effect.gen(function* () {
  const code = yield* ActiveCode
  const slots = yield* SandboxSlots
  const catalog = yield* RegistryCatalog

  /** The active version, after retiring any other version of `name` still running. */
  const target = (name: string) =>
    Effect.tap(code.current(name), (active) => slots.retireOthers(name, active.version))

  /**
   * Runs `use` with a sandbox of the active version and its settings; the slot counts as busy
   * (not idle) until the scope closes.
   */
  const withSandbox = (name: string, check: (active: ActiveVersion) => ProviderFatalError | undefined) =>
    Effect.gen(function* () {
      const active = yield* target(name)
      const refused = check(active)
      if (refused) return yield* Effect.fail(refused)
      const settings: CallSettings = yield* code.settings(active)
      const sandbox: Sandbox = yield* slots.acquire(active)
      return { active, settings, sandbox }
    })

  const listAssets = (name: string) =>
    Effect.scoped(
      Effect.gen(function* () {
        const { sandbox, settings } = yield* withSandbox(name, () => undefined)
        const raw = yield* sandbox.listAssets(settings)
        if (!Array.isArray(raw))
          return yield* failFromProvider(name)(new Error("listAssets did not return an array"))
        const listing = screenAssets(raw)
        yield* reportRejections("asset", listing.rejected)
        return listing
      })
    ).pipe(
      Effect.annotateLogs({ provider: name }),
      Effect.withSpan("ProviderPool.listAssets", { attributes: { name } })
    )

  const refuse = (name: string, message: string) => new ProviderFatalError({ provider: name, message })

  const history = (name: string, request: HistoryRequest) =>
    Stream.unwrapScoped(
      Effect.gen(function* () {
        yield* Effect.annotateLogsScoped({
          provider: name,
          symbol: request.symbol,
          timeframe: request.timeframe
        })
        const { sandbox, settings } = yield* withSandbox(name, ({ manifest }) =>
          !manifest.capabilities.includes("history")
            ? refuse(name, `"${name}" is a ${manifest.kind} without history`)
            : !manifest.timeframes.includes(request.timeframe)
              ? refuse(
                  name,
                  `"${name}" has no ${request.timeframe} bars (it serves ${manifest.timeframes.join(", ")})`
                )
              : undefined
        )
        const screen = historyScreen(request)
        return sandbox.stream("history", settings, request).pipe(
          Stream.mapEffect((page) => {
            const bars = (page as { readonly bars?: unknown } | null)?.bars
            if (!Array.isArray(bars))
              return failFromProvider(name)(new Error("history page has no bars array"))
            const chunk = screen(bars, Date.now())
            return Effect.as(reportRejections("bar", chunk.rejected), chunk)
          })
        )
      })
    ).pipe(Stream.withSpan("ProviderPool.history", { attributes: { name, ...request } }))

  const live = (name: string, request: LiveRequest) =>
    Stream.unwrapScoped(
      Effect.gen(function* () {
        yield* Effect.annotateLogsScoped({ provider: name, timeframe: request.timeframe })
        const { sandbox, settings } = yield* withSandbox(name, ({ manifest }) =>
          !manifest.capabilities.includes("live")
            ? refuse(name, `"${name}" has no live feed`)
            : !manifest.timeframes.includes(request.timeframe)
              ? refuse(
                  name,
                  `"${name}" has no ${request.timeframe} bars (it serves ${manifest.timeframes.join(", ")})`
                )
              : undefined
        )
        const screen = liveScreen(request)
        // Screened a pull's batch at a time: a busy feed brings thousands of events per pull.
        return sandbox.stream("live", settings, request).pipe(
          Stream.mapChunksEffect((events) => {
            const now = Date.now()
            const kept: Array<LiveEvent> = []
            const rejected: Array<{ readonly reason: string }> = []
            for (const event of events) {
              const screened = screen(event, now)
              if (Either.isRight(screened)) kept.push(screened.right)
              else rejected.push(screened.left)
            }
            const chunk = Chunk.unsafeFromArray(kept)
            return rejected.length === 0
              ? Effect.succeed(chunk)
              : Effect.as(reportRejections("event", rejected), chunk)
          })
        )
      })
    ).pipe(Stream.withSpan("ProviderPool.live", { attributes: { name, symbols: request.symbols.join(",") } }))

  /** Retires what is no longer current for `name` (or stops it all when nothing is). */
  const reconcile = (name: string) =>
    code.current(name).pipe(
      Effect.flatMap((active) => slots.retireOthers(name, active.version)),
      Effect.catchTag("NotFound", (e) => slots.retireOthers(name, undefined, e.message)),
      Effect.catchTag("ServiceUnavailable", (e) =>
        Effect.logWarning("cannot check the active version; keeping the sandboxes").pipe(
          Effect.annotateLogs({ name, error: e.message })
        )
      )
    )

  yield* catalog.changes.pipe(
    Stream.runForEach((change) =>
      change.topic === "all"
        ? Effect.flatMap(slots.names, (names) => Effect.forEach(names, reconcile, { discard: true }))
        : change.topic === "code" && change.name !== undefined
          ? reconcile(change.name)
          : Effect.void
    ),
    Effect.forkScoped
  )
  // Events can be missed (a restart in between): re-read now and then, and stop idle sandboxes.
  yield* Effect.gen(function* () {
    yield* Effect.forEach(yield* slots.names, reconcile, { discard: true })
    yield* slots.stopIdle
  }).pipe(Effect.repeat(Schedule.spaced(RECONCILE_EVERY)), Effect.forkScoped)

  /** What the scheduler needs before asking for bars, from the active version's manifest. */
  const describe = (name: string) =>
    Effect.map(code.current(name), ({ manifest }) => ({
      name,
      timeframes: manifest.timeframes,
      publishDelayMs: manifest.publishDelayMs ?? 0
    }))

  return { listAssets, history, live, describe, sandboxes: slots.status } satisfies ProviderPoolService
})

export class ProviderPool extends Context.Tag("@quasar/datahub/ProviderPool")<
  ProviderPool,
  ProviderPoolService
>() {
  /** Needs the RegistryCatalog, SandboxWorkspace, SandboxLimits. */
  static readonly layer = Layer.scoped(ProviderPool, make).pipe(
    Layer.provide(SandboxSlots.layer),
    Layer.provide(ActiveCode.layer)
  )
}
