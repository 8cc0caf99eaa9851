/**
 * One collection run: ask the provider for [from, to), write each page, and only once the writer
 * has committed it record how far the subscription got. Retryable failures restart the provider
 * stream from the last committed page (never from the run's start) under the host's one retry
 * policy; fatal ones end the run at once. A page holding unsound bars fails as a whole and is
 * asked for again: a page is written completely or not at all.
 */
import { type ProviderError, ProviderRetryableError, Timeframe } from "@quasar/domain"
import { Metrics } from "@quasar/server"
import {
  Cause,
  Chunk,
  Clock,
  Duration,
  Effect,
  Exit,
  Metric,
  MetricLabel,
  Option,
  Schedule,
  Stream
} from "effect"
import { retryProviderStream } from "../sandbox/providerHost"
import { type BarRow, BarSink } from "./BarSink"
import { BarSource, type HistoryChunk } from "./BarSource"
import { CollectionConfig } from "./CollectionConfig"
import { CollectionRunRepo, type RunKind, type RunStatus } from "./CollectionRunRepo"
import { BarsNotStored, PageRefused, type StoreUnavailable, storeUnavailable } from "./errors"
import { GapRepo } from "./GapRepo"
import { holesBefore, progressPercent } from "./Plan"
import { type Series, type SubscriptionRecord, SubscriptionRepo } from "./SubscriptionRepo"

export interface RunPlan {
  readonly subscription: SubscriptionRecord
  readonly kind: RunKind
  readonly from: number
  readonly to: number
  /** Forward runs: the end of what is available now, for progress and the `current` status. */
  readonly until: number
}

export interface RunResult {
  readonly rows: number
  readonly pages: number
  readonly retries: number
}

export type RunError = ProviderError | StoreUnavailable | PageRefused | BarsNotStored

/** Screen verdicts that are not the provider's fault: a repeated boundary bar, a still-forming bar. */
const HARMLESS = new Set(["bar has not closed yet", "outside the requested range", "duplicate bar"])

const wholePage =
  (provider: string) =>
  (chunk: HistoryChunk): Effect.Effect<HistoryChunk, ProviderRetryableError> => {
    const unsound = chunk.rejected.filter((r) => !HARMLESS.has(r.reason))
    if (unsound.length === 0) return Effect.succeed(chunk)
    return Effect.fail(
      new ProviderRetryableError({
        provider,
        message: `a page held ${unsound.length} unsound bar(s) (${unsound[0]?.reason}); it was not written and is asked for again`
      })
    )
  }

const iso = (ms: number) => new Date(ms).toISOString()

/** Provider pages fetched ahead of the writer, and the most merged into one commit. */
export const PREFETCH_PAGES = 8
/** How often a running run records that it is alive (see CollectionRunRepo.interruptStale). */
export const RUN_HEARTBEAT = Duration.seconds(30)
/** Writes of one run in the writer at once (progress is still recorded in order). */
export const WRITES_IN_FLIGHT = 2

const messageOf = (cause: Cause.Cause<RunError>): string => {
  const failure = Cause.failureOption(cause)
  return Option.isSome(failure)
    ? failure.value.message
    : (Cause.pretty(cause).split("\n")[0] ?? "unexpected failure")
}

export const collectRange = (plan: RunPlan) =>
  Effect.gen(function* () {
    const source = yield* BarSource
    const sink = yield* BarSink
    const subscriptions = yield* SubscriptionRepo
    const gaps = yield* GapRepo
    const runs = yield* CollectionRunRepo
    const config = yield* CollectionConfig
    const sub = plan.subscription
    const series: Series = { provider: sub.provider, symbol: sub.symbol, timeframe: sub.timeframe }
    const d = Timeframe.durationMs(sub.timeframe)
    const forward = plan.kind !== "gap"
    const backfillFrom = sub.backfillFrom ?? plan.from
    const store = Effect.mapError(storeUnavailable)

    const startedAt = yield* Clock.currentTimeMillis
    const runId = yield* store(
      runs.start({ subscriptionId: sub.id, ...series, kind: plan.kind, from: plan.from, to: plan.to })
    )
    let cursor = plan.from
    // The last bar known to be stored before `cursor`: a hole after it that the provider skips
    // while answering a later bar is known-empty (see Plan.holesBefore).
    let lastSeen =
      sub.lastBarAt !== null && sub.lastBarAt < plan.from && forward ? sub.lastBarAt : plan.from - d
    let rows = 0
    let pages = 0
    let attempts = 0

    // Explicit fields, not spreads: this runs once per bar of every backfill.
    const toRow = (b: HistoryChunk["bars"][number]): BarRow => ({
      provider: series.provider,
      symbol: series.symbol,
      timeframe: series.timeframe,
      ts: b.ts,
      open: b.open,
      high: b.high,
      low: b.low,
      close: b.close,
      volume: b.volume,
      vwap: b.vwap,
      trades: b.trades
    })
    // Writing and recording are two steps so that two writes can be in flight (the writer's
    // lanes stay busy) while progress is still recorded strictly in order, each step only once
    // its rows are committed. A failed write fails the stream; the retry restarts from `cursor`,
    // the last recorded page, and rewrites whatever was in flight (upserts: no duplicates).
    let queuedFrom = cursor
    const toWrite = (chunk: HistoryChunk): ReadonlyArray<HistoryChunk["bars"][number]> => {
      pages++
      const bars = chunk.bars.filter((b) => b.ts >= queuedFrom)
      const last = bars.at(-1)
      if (last !== undefined) queuedFrom = last.ts + d
      return bars
    }
    const write = (bars: ReadonlyArray<HistoryChunk["bars"][number]>) =>
      bars.length === 0
        ? Effect.succeed(bars)
        : sink.write("historical", bars.map(toRow)).pipe(
            Effect.mapError((rejected) => new PageRefused({ message: rejected.message })),
            Effect.as(bars)
          )
    // Progress counts what the database holds, asked after the commit, never what was sent: a
    // committed write may still store fewer rows than it carried (a trigger, a lost statement).
    // The run then advances only up to the first missing bar and fails with `BarsNotStored`, so
    // the next run writes again from there.
    const record = (written: ReadonlyArray<HistoryChunk["bars"][number]>) =>
      Effect.gen(function* () {
        // After a provider retry, pages already recorded may be written again: never step back.
        const sent =
          written[0] !== undefined && written[0].ts < cursor ? written.filter((b) => b.ts >= cursor) : written
        if (sent.length === 0) return
        const missing = yield* store(
          gaps.unstored(
            series,
            sent.map((b) => b.ts)
          )
        )
        const firstMissing = missing[0]
        const bars = firstMissing === undefined ? sent : sent.filter((b) => b.ts < firstMissing)
        const last = bars.at(-1)
        if (last !== undefined) {
          yield* store(
            gaps.recordEmpty(
              series,
              holesBefore(
                sub.timeframe,
                lastSeen,
                bars.map((b) => b.ts)
              )
            )
          )
          lastSeen = last.ts
          cursor = last.ts + d
          rows += bars.length
          yield* store(
            forward
              ? subscriptions.recordProgress(sub.id, {
                  collectedUntil: cursor,
                  lastBarAt: last.ts,
                  progress:
                    sub.status === "current" ? 100 : progressPercent(backfillFrom, cursor, plan.until),
                  status: sub.status === "current" ? "current" : "backfilling"
                })
              : subscriptions.recordLastBar(sub.id, last.ts)
          )
        }
        if (firstMissing !== undefined)
          return yield* new BarsNotStored({
            missing: missing.length,
            message: `${missing.length} of ${sent.length} bars written were not in the database after their commit (the first at ${iso(firstMissing)}); the run counts only the ${rows} confirmed bars and the next run writes again from ${iso(firstMissing)}`
          })
      })

    // Each (re)start asks only for what is not committed yet.
    const pagesFromCursor = Stream.suspend(() => {
      attempts++
      queuedFrom = cursor
      return source.history(sub.provider, {
        symbol: sub.symbol,
        timeframe: sub.timeframe,
        from: cursor,
        to: plan.to
      })
    }).pipe(
      Stream.mapEffect(wholePage(sub.provider)),
      // Fetch ahead while earlier pages are being committed, and commit what has piled up
      // together: one write and one progress update per group instead of per provider page.
      Stream.buffer({ capacity: PREFETCH_PAGES }),
      Stream.groupedWithin(PREFETCH_PAGES, Duration.millis(20)),
      Stream.map((group) => ({
        bars: Chunk.toReadonlyArray(group).flatMap((c) => c.bars),
        rejected: Chunk.toReadonlyArray(group).flatMap((c) => c.rejected)
      })),
      retryProviderStream(config.retry)
    )

    const retries = () => Math.max(0, attempts - 1)
    // A run that failed because the database went away is recorded once it is back (within a
    // while), so the table says so; a stopped run must not hold up a shutdown for long.
    const finish = (status: RunStatus, error: string | null, patience: Duration.DurationInput) =>
      Metric.increment(
        Metric.taggedWithLabels(Metrics.collectionRuns, [
          MetricLabel.make("provider", sub.provider),
          MetricLabel.make("outcome", status === "failed" ? "failed" : retries() > 0 ? "retried" : status)
        ])
      ).pipe(
        Effect.zipRight(Clock.currentTimeMillis),
        Effect.flatMap((now) =>
          runs.finish(runId, { status, rows, pages, retries: retries(), error, durationMs: now - startedAt })
        ),
        Effect.retry(Schedule.spaced("500 millis")),
        Effect.timeout(patience),
        Effect.ignore
      )

    const completed = forward
      ? subscriptions.recordProgress(sub.id, {
          collectedUntil: plan.to,
          lastBarAt: null,
          progress: plan.to >= plan.until ? 100 : progressPercent(backfillFrom, plan.to, plan.until),
          status: plan.to >= plan.until || sub.status === "current" ? "current" : "backfilling"
        })
      : // A gap lies between stored bars: whatever of it the provider did not fill is empty.
        gaps.recordEmpty(series, cursor < plan.to ? [{ from: cursor, to: plan.to }] : [])

    // Says the run is alive while it works, so a crash leaves a run that stops beating (the
    // scheduler closes such runs as interrupted). On the service's own clock, not a test's.
    const heartbeat = runs
      .beat(runId)
      .pipe(Effect.ignore, Effect.delay(RUN_HEARTBEAT), Effect.forever, Effect.withClock(Clock.make()))

    return yield* pagesFromCursor.pipe(
      Stream.map(toWrite),
      Stream.mapEffect(write, { concurrency: WRITES_IN_FLIGHT }),
      Stream.runForEach(record),
      (work) => Effect.raceFirst(work, heartbeat),
      Effect.timeoutFail({
        duration: config.runTimeout,
        onTimeout: () =>
          new ProviderRetryableError({
            provider: sub.provider,
            message: `run timed out after ${Duration.format(config.runTimeout)}; its committed pages are kept and the next run resumes after them`
          })
      }),
      Effect.zipRight(store(completed)),
      Effect.map((): RunResult => ({ rows, pages, retries: retries() })),
      Effect.onExit(
        Exit.match({
          onSuccess: (r) => finish(r.rows > 0 ? "ok" : "empty", null, "10 seconds"),
          onFailure: (cause) =>
            Cause.isInterruptedOnly(cause)
              ? finish("interrupted", "stopped by a pause, a delete or a shutdown", "3 seconds")
              : finish("failed", messageOf(cause), "10 seconds")
        })
      ),
      Effect.tap((r) => Effect.logInfo("collection run").pipe(Effect.annotateLogs({ ...r }))),
      Effect.tapErrorCause((cause) =>
        Cause.isInterruptedOnly(cause)
          ? Effect.void
          : Effect.logWarning("collection run failed").pipe(
              Effect.annotateLogs({ rows, retries: retries(), error: messageOf(cause) })
            )
      ),
      Effect.tap((r) => Effect.annotateCurrentSpan({ rows: r.rows, retries: r.retries })),
      Effect.tapError((e) => Effect.annotateCurrentSpan({ rows, retries: retries(), error: e.message })),
      Effect.annotateLogs({ run: runId, kind: plan.kind, from: iso(plan.from), to: iso(plan.to) })
    )
  }).pipe(
    Effect.annotateLogs({
      provider: plan.subscription.provider,
      symbol: plan.subscription.symbol,
      timeframe: plan.subscription.timeframe,
      subscription: plan.subscription.id
    }),
    Effect.withSpan("collect.run", {
      attributes: {
        provider: plan.subscription.provider,
        symbol: plan.subscription.symbol,
        timeframe: plan.subscription.timeframe,
        kind: plan.kind,
        from: iso(plan.from),
        to: iso(plan.to)
      }
    })
  )
