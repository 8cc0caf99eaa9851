/**
 * One collection run: ask the provider for [from, to), write each page, and only once the writer
 * has committed it record how far the subscription got. Retryable failures restart the provider
 * stream from the last committed page (never from the run's start) under the host's one retry
 * policy; fatal ones end the run at once. A page holding unsound bars fails as a whole and is
 * asked for again: a page is written completely or not at all.
 */
import { type ProviderError, ProviderRetryableError } from "@quasar/domain"
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
import {
  completion,
  initialState,
  type RunEvent,
  type RunOutput,
  retries as retriesOf,
  step
} from "./CollectionRunState"
import { BarsNotStored, PageRefused, type StoreUnavailable, storeUnavailable } from "./errors"
import { GapRepo } from "./GapRepo"
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
    const forward = plan.kind !== "gap"
    const backfillFrom = sub.backfillFrom ?? plan.from
    const store = Effect.mapError(storeUnavailable)

    const startedAt = yield* Clock.currentTimeMillis
    const runId = yield* store(
      runs.start({ subscriptionId: sub.id, ...series, kind: plan.kind, from: plan.from, to: plan.to })
    )
    const initial = initialState(
      {
        timeframe: sub.timeframe,
        forward,
        from: plan.from,
        to: plan.to,
        until: plan.until,
        backfillFrom,
        subscriptionStatus: sub.status
      },
      sub.lastBarAt
    )
    let state = initial
    type Bar = HistoryChunk["bars"][number]
    /** Applies one event; its state holds from here on, whatever the outputs' effects do. */
    const advance = (event: RunEvent<Bar>): ReadonlyArray<RunOutput<Bar>> => {
      const next = step(state, event)
      state = next.state
      return next.outputs
    }
    const perform = (output: RunOutput<Bar>): Effect.Effect<void, StoreUnavailable | BarsNotStored> => {
      switch (output._tag) {
        case "RecordEmpty":
          return store(gaps.recordEmpty(series, output.ranges))
        case "RecordProgress":
          return store(subscriptions.recordProgress(sub.id, output.progress))
        case "RecordLastBar":
          return store(subscriptions.recordLastBar(sub.id, output.lastBarAt))
        case "NotStored":
          return new BarsNotStored({ missing: output.missing, message: output.message })
        default:
          return Effect.void
      }
    }

    // Explicit fields, not spreads: this runs once per bar of every backfill.
    const toRow = (b: Bar): BarRow => ({
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
    // its rows are committed. A failed write fails the stream; the retry restarts from the
    // cursor, the last recorded page, and rewrites whatever was in flight (upserts: no duplicates).
    const toWrite = (chunk: HistoryChunk): ReadonlyArray<Bar> => {
      const [output] = advance({ _tag: "PageQueued", bars: chunk.bars })
      return output?._tag === "Write" ? output.bars : []
    }
    const write = (bars: ReadonlyArray<Bar>) =>
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
    const record = (written: ReadonlyArray<Bar>) =>
      Effect.gen(function* () {
        const [check] = advance({ _tag: "Written", bars: written })
        if (check?._tag !== "CheckStored") return
        const sent = check.bars
        const missing = yield* store(
          gaps.unstored(
            series,
            sent.map((b) => b.ts)
          )
        )
        // The holes are recorded before the run advances past them.
        for (const output of advance({ _tag: "Checked", sent, missing })) yield* perform(output)
        if (state.pending === null) return
        for (const output of advance({ _tag: "HolesRecorded" })) yield* perform(output)
      })

    const pagesFromCursor = Stream.suspend(() => {
      const [request] = advance({ _tag: "AttemptStarted" })
      return source.history(sub.provider, {
        symbol: sub.symbol,
        timeframe: sub.timeframe,
        from: request?._tag === "Request" ? request.from : state.cursor,
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

    const retries = () => retriesOf(state)
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
          runs.finish(runId, {
            status,
            rows: state.rows,
            pages: state.pages,
            retries: retries(),
            error,
            durationMs: now - startedAt
          })
        ),
        Effect.retry(Schedule.spaced("500 millis")),
        Effect.timeout(patience),
        Effect.ignore
      )

    // At the end of the run: a forward run records its range as collected; a gap run records as
    // known-empty what lies after the last bar it got (holes before bars were recorded page by page).
    const completed = Effect.suspend(() => perform(completion(state)))

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
      Effect.map((): RunResult => ({ rows: state.rows, pages: state.pages, retries: retries() })),
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
              Effect.annotateLogs({ rows: state.rows, retries: retries(), error: messageOf(cause) })
            )
      ),
      Effect.tap((r) => Effect.annotateCurrentSpan({ rows: r.rows, retries: r.retries })),
      Effect.tapError((e) =>
        Effect.annotateCurrentSpan({ rows: state.rows, retries: retries(), error: e.message })
      ),
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
