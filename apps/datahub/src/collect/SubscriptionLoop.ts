/**
 * The life of one subscription, as one fiber: read its state from the database, run what is due
 * (backfill pages, then a bar-aligned update after each close, then gap re-requests), record the
 * next run and sleep until then. Every decision starts from the database row, so a restart, a
 * pause from another DataHub or a crash in between loses nothing and repeats nothing.
 */
import { Clock, Duration, Effect, Either, Option } from "effect"
import { RegistryCatalog } from "../catalog/RegistryCatalog"
import { ProviderOwnership } from "../cluster/ProviderOwnership"
import { isSettingsRefusal } from "../sandbox/settingsNotices"
import { BarSource } from "./BarSource"
import { CollectionConfig } from "./CollectionConfig"
import { collectRange, type RunError, type RunPlan } from "./CollectionRun"
import { GapRepo } from "./GapRepo"
import * as Plan from "./Plan"
import { ProviderLimits } from "./ProviderLimits"
import { isRunnable, type SubscriptionRecord, SubscriptionRepo } from "./SubscriptionRepo"

type Step =
  | { readonly _tag: "Stop" }
  | { readonly _tag: "Again" }
  | { readonly _tag: "SleepUntil"; readonly at: number }
  | { readonly _tag: "Unavailable"; readonly reason: string }

const stop: Step = { _tag: "Stop" }
const again: Step = { _tag: "Again" }

interface LoopState {
  /** Consecutive runs that spent all their retries. */
  failures: number
  /** Consecutive steps that could not reach the database (or the bar source). */
  unavailableSteps: number
  nextGapScan: number
  /** Whether a step has succeeded since the loop started. */
  started: boolean
}

/** Unavailable steps at start (≈30 s of backoff) before the wait is worth a warning. */
const STARTUP_PATIENCE = 10

export const subscriptionLoop = (id: number) =>
  Effect.gen(function* () {
    const subscriptions = yield* SubscriptionRepo
    const gaps = yield* GapRepo
    const catalog = yield* RegistryCatalog
    const source = yield* BarSource
    const limits = yield* ProviderLimits
    const config = yield* CollectionConfig
    const ownership = yield* ProviderOwnership
    const state: LoopState = { failures: 0, unavailableSteps: 0, nextGapScan: 0, started: false }

    /** What a failed run means for the subscription, and when to look at it again. */
    const afterFailure = (sub: SubscriptionRecord, error: RunError, now: number) =>
      Effect.gen(function* () {
        if (error._tag === "StoreUnavailable") return { _tag: "Unavailable", reason: error.message } as const
        if (error._tag === "ProviderFatalError") {
          yield* subscriptions.recordFatal(sub.id, error.message)
          // Missing settings are reported once per provider, at warn (settingsNotices.ts).
          yield* (isSettingsRefusal(error) ? Effect.logInfo : Effect.logError)(
            "subscription stopped: the provider refused it"
          ).pipe(Effect.annotateLogs({ error: error.message }))
          return stop
        }
        // Retries spent, or the database refused the page: keep the reason, try again later.
        state.failures++
        const delay = Plan.failureDelayMs(
          Duration.toMillis(config.failureDelay.base),
          state.failures,
          Duration.toMillis(config.failureDelay.max)
        )
        yield* subscriptions.recordFailure(sub.id, error.message, now + delay)
        return { _tag: "SleepUntil", at: now + delay } as const
      })

    /**
     * A provider's permits can come free as it leaves this runner: its loops are being stopped
     * then, and one that was waiting may get a permit before its turn. It starts no run that the
     * provider's new owner is about to make.
     */
    const run = (plan: RunPlan) => {
      const { provider } = plan.subscription
      return limits
        .withPermit(provider)(
          Effect.flatMap(ownership.owned, (owned) =>
            owned.has(provider) ? collectRange(plan) : Effect.interrupt
          )
        )
        .pipe(Effect.either)
    }

    /** Re-requests holes in what is stored (only once the backfill is done). */
    const scanGaps = (sub: SubscriptionRecord, now: number, collectedUntil: number) =>
      Effect.gen(function* () {
        state.nextGapScan = now + Duration.toMillis(config.gapScanEvery)
        const continuous = yield* catalog.isContinuous(sub.provider, sub.symbol)
        const holes = yield* gaps.holes(
          sub,
          continuous
            ? {
                _tag: "Recheck",
                afterMs: Duration.toMillis(config.emptyRecheckAfter),
                maxAttempts: config.maxEmptyAttempts
              }
            : { _tag: "All" },
          config.gapsPerScan,
          { from: Plan.expectedFrom(sub), to: collectedUntil }
        )
        for (const hole of holes) {
          const result = yield* run({ subscription: sub, kind: "gap", ...hole, until: hole.to })
          if (Either.isLeft(result)) return yield* afterFailure(sub, result.left, now)
        }
        return undefined
      })

    const step = Effect.gen(function* () {
      const found = yield* subscriptions.get(id)
      if (Option.isNone(found) || !isRunnable(found.value)) return stop
      const sub = found.value
      const described = yield* Effect.either(source.describe(sub.provider))
      if (Either.isLeft(described)) {
        if (described.left._tag === "ServiceUnavailable")
          return { _tag: "Unavailable", reason: described.left.message } as const
        yield* subscriptions.recordFatal(id, described.left.message)
        return stop
      }
      const { publishDelayMs } = described.right
      const now = yield* Clock.currentTimeMillis
      const until = Plan.availableUntil(sub.timeframe, now, publishDelayMs, config.marginMs)
      const cursor = sub.collectedUntil ?? Plan.expectedFrom(sub)

      if (cursor < until) {
        const range = Plan.runRange(sub.timeframe, cursor, until, config.maxBarsPerRun)
        const kind = sub.status === "current" ? "update" : "backfill"
        const result = yield* run({ subscription: sub, kind, ...range, until })
        if (Either.isLeft(result)) return yield* afterFailure(sub, result.left, now)
        state.failures = 0
        return again
      }
      // Caught up: holes (deleted rows, bars the provider published late) are asked for again,
      // then progress is what is stored or confirmed empty, so 100 % means nothing is missing.
      const scanning = now >= state.nextGapScan
      if (scanning) {
        const failed = yield* scanGaps(sub, now, cursor)
        if (failed) return failed
      }
      if (sub.status === "backfilling" || scanning) {
        const from = Plan.expectedFrom(sub)
        const unconfirmed = yield* gaps.unconfirmedMs(sub, { from, to: cursor })
        yield* subscriptions.recordProgress(id, {
          collectedUntil: cursor,
          lastBarAt: null,
          progress: Plan.coveragePercent(from, cursor, unconfirmed),
          status: "current"
        })
      }
      const next = Plan.nextRunAt(sub.timeframe, until, publishDelayMs, config.marginMs)
      yield* subscriptions.recordNextRun(id, next)
      // Wake for the next gap scan too when it comes first (daily bars, hourly scans).
      return {
        _tag: "SleepUntil",
        at: sub.status === "current" ? Math.min(next, state.nextGapScan) : next
      } as const
    }).pipe(
      // A database outage pauses this subscription; the step is simply taken again later.
      Effect.catchTag("SqlError", (e) => Effect.succeed<Step>({ _tag: "Unavailable", reason: e.message }))
    )

    while (true) {
      const next: Step = yield* step
      if (next._tag === "Stop") return
      if (next._tag === "Unavailable") {
        state.unavailableSteps++
        // Before a first step succeeded this is usually the start-up race (the sandboxes are
        // still loading the providers): a warning only once it lasts.
        const starting = !state.started
        if (starting ? state.unavailableSteps === STARTUP_PATIENCE : state.unavailableSteps === 1)
          yield* Effect.logWarning("collection paused until the database (or bar source) answers again").pipe(
            Effect.annotateLogs({ error: next.reason })
          )
        else if (starting && state.unavailableSteps === 1)
          yield* Effect.logInfo("collection waits until the bar source and the database are ready").pipe(
            Effect.annotateLogs({ reason: next.reason })
          )
        yield* Effect.sleep(
          Duration.min(
            Duration.times(config.databaseRetry.base, 2 ** Math.min(state.unavailableSteps - 1, 10)),
            config.databaseRetry.max
          )
        )
        continue
      }
      if (state.unavailableSteps > 0) yield* Effect.logInfo("collection resumes")
      state.unavailableSteps = 0
      state.started = true
      if (next._tag === "SleepUntil") {
        const now = yield* Clock.currentTimeMillis
        yield* Effect.sleep(Duration.millis(Math.max(0, next.at - now)))
      }
    }
  }).pipe(Effect.annotateLogs({ subscription: id }))
