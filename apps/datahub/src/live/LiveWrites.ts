/**
 * A connection's writes: events only queue rows here (never waiting), and one fiber cuts what
 * gathered into a batch, queues it with the BarWriter, and once it is committed publishes those
 * bars to `/live` clients (batches in order; at most IN_FLIGHT in the database at once);
 * `last_bar_at` is recorded on a clock of its own. While writes are in the database the next
 * batch gathers, so batches grow with the load; forming bars are coalesced per series (only the
 * newest matters), closed bars are all kept, in order.
 *
 * Ordering: a series' closed bars reach the writer in the order they closed, and the writer keeps
 * one series' writes in order, so whatever history writes later for the same bar wins. For
 * subscriptions whose history is collected too (`both`), a closed bar that the scheduler has
 * already collected (before `collected_until`) is not written again from the stream: when the
 * stream closes a bar late (Kraken's grace period after a quiet minute) history got there first.
 *
 * What gathers, and cutting it into a batch, is LiveWritesState's reducer; this module feeds it
 * the connection's events and performs what it asks for (writes, publishing, progress).
 */
import type { Timeframe } from "@quasar/domain"
import type { ProviderBar } from "@quasar/providers/sdk"
import { Deferred, Duration, Effect, Queue } from "effect"
import { type BarRow, type BarsRejected, type BarTarget, BarWriter } from "../store/BarWriter"
import { LiveHub, type LiveUpdate, seriesKey } from "./LiveHub"
import { LiveRepo } from "./LiveRepo"
import {
  hasGathered,
  type Item,
  initialLiveWrites,
  type LiveWritesEvent,
  type LiveWritesOutput,
  stepLiveWrites
} from "./LiveWritesState"
import type { SeriesState } from "./SeriesState"

export interface LiveWrites {
  /** The newest forming bar of a series (replaces one not yet written). */
  readonly forming: (state: SeriesState, bar: ProviderBar) => void
  /** Closed bars of a trusted series, oldest first. */
  readonly closed: (state: SeriesState, bars: ReadonlyArray<ProviderBar>) => void
  /** Closed bars already stored (by a gap fill) that `/live` clients get with the next batch. */
  readonly announce: (state: SeriesState, bars: ReadonlyArray<ProviderBar>) => void
  /** The series' stream is trusted now (a live-only subscription becomes `current`). */
  readonly streaming: (state: SeriesState) => void
  /** Writes what gathered, batch after batch, forever. */
  readonly run: Effect.Effect<never>
  /**
   * Completes once what gathered so far is in a batch and another batch could start: the
   * connection reads its next events then, so that a busy feed's updates wait in the sandbox
   * (where newer versions of a forming bar replace older ones) rather than being decoded and
   * handled here only to be replaced before they are written.
   */
  readonly capacity: Effect.Effect<void>
  /** Writes what gathered so far once (at shutdown). */
  readonly flush: Effect.Effect<void>
}

/** How often the progress of the bars written is recorded (subscription status, lag). */
const PROGRESS_EVERY = Duration.millis(500)
/** The longest a connection waits for the writes before reading on (see `capacity`). */
const CAPACITY_WAIT = Duration.seconds(1)
/** Batches in the database at once. */
const IN_FLIGHT = 2

export const makeLiveWrites = (provider: string, timeframe: Timeframe.Timeframe) =>
  Effect.gen(function* () {
    const writer = yield* BarWriter
    const hub = yield* LiveHub
    const repo = yield* LiveRepo
    const tf = timeframe
    const wake = yield* Queue.sliding<void>(1)
    let gathering = initialLiveWrites
    /** Steps what gathers; wakes the batch fiber when asked to and returns the other outputs. */
    const dispatch = (event: LiveWritesEvent): ReadonlyArray<LiveWritesOutput> => {
      const step = stepLiveWrites(gathering, event)
      gathering = step.state
      for (const output of step.outputs) if (output._tag === "Wake") Queue.unsafeOffer(wake, undefined)
      return step.outputs
    }

    // Explicit fields, not spreads, and each series' key made once: these run for every bar
    // of every batch.
    const row = ({ state, bar }: Item): BarRow => ({
      key: keyOf(state),
      provider,
      symbol: state.symbol,
      timeframe: tf,
      ts: bar.ts,
      open: bar.open,
      high: bar.high,
      low: bar.low,
      close: bar.close,
      volume: bar.volume,
      vwap: bar.vwap,
      trades: bar.trades
    })
    const keys = new WeakMap<SeriesState, string>()
    const keyOf = (state: SeriesState) => {
      let key = keys.get(state)
      if (key === undefined) {
        key = seriesKey({ provider, symbol: state.symbol, timeframe: tf })
        keys.set(state, key)
      }
      return key
    }
    const update = ({ state, bar }: Item, isClosed: boolean): LiveUpdate => ({
      key: keyOf(state),
      provider,
      symbol: state.symbol,
      timeframe: tf,
      bar,
      closed: isClosed
    })

    const rejected = (target: BarTarget, rows: number) => (e: BarsRejected) =>
      Effect.logError("live bars rejected by the database; they are not stored").pipe(
        Effect.annotateLogs({ target, rows, error: e.message })
      )

    /** Queues `items` with the writer now; returns what waits for their commit. */
    const queueWrite = (target: BarTarget, items: ReadonlyArray<Item>): Effect.Effect<Effect.Effect<void>> =>
      items.length === 0
        ? Effect.succeed(Effect.void)
        : writer.submit(target, items.map(row)).pipe(
            Effect.map((committed) => Effect.catchAll(committed, rejected(target, items.length))),
            Effect.catchAll((e) => Effect.as(rejected(target, items.length)(e), Effect.void))
          )

    /** Drops closed bars the history collection already stored (its version is final). */
    const notCollected = (items: ReadonlyArray<Item>) =>
      Effect.gen(function* () {
        const ids = [...new Set(items.filter((i) => i.state.mode === "both").map((i) => i.state.id))]
        if (ids.length === 0) return items
        const until = yield* repo.collectedUntil(ids).pipe(
          // Not knowing costs at most one overwrite by the stream's version; not writing would lose bars.
          Effect.catchAll(() => Effect.succeed(new Map<number, number>()))
        )
        const kept = items.filter((i) => i.state.mode !== "both" || i.bar.ts >= (until.get(i.state.id) ?? 0))
        if (kept.length < items.length)
          yield* Effect.logDebug("closed bars already collected from history; stream versions skipped").pipe(
            Effect.annotateLogs({ skipped: items.length - kept.length })
          )
        return kept
      })

    // Progress (last_bar_at, streaming) is recorded on a clock of its own, not after every batch:
    // at a busy feed's pace that would be one more statement per batch, in the path of the next.
    const bookkeeping = Effect.gen(function* () {
      for (const output of dispatch({ _tag: "Record" }))
        if (output._tag === "RecordProgress") {
          if (output.latest.size > 0) yield* repo.recordLastBars(output.latest)
          if (output.trusted.size > 0) yield* repo.markStreaming([...output.trusted])
        }
    }).pipe(
      Effect.catchAll((e) =>
        Effect.logWarning("could not record live progress; the next round will").pipe(
          Effect.annotateLogs({ error: e.message })
        )
      )
    )

    // Two batches may be in the database at once: while one commits, the next is already queued
    // behind it (the writer applies them in order), so an update waits for one commit, not two.
    // They are published in order all the same.
    const permits = yield* Effect.makeSemaphore(IN_FLIGHT)
    let published = yield* Deferred.make<void>()
    yield* Deferred.succeed(published, undefined)

    /** Cuts a batch of what gathered and queues its writes; returns what commits and publishes it. */
    const startBatch: Effect.Effect<Effect.Effect<void> | undefined> = Effect.gen(function* () {
      const taken = dispatch({ _tag: "Cut" }).find((o) => o._tag === "Batch")
      if (taken === undefined) return undefined
      const { batch } = taken
      const kept = yield* notCollected(batch.closed)
      const commits = yield* Effect.all([queueWrite("historical", kept), queueWrite("live", batch.forming)])
      const before = published
      const done = yield* Deferred.make<void>()
      published = done
      return Effect.gen(function* () {
        yield* Effect.all(commits, { concurrency: "unbounded", discard: true })
        yield* Deferred.await(before)
        // Closed first: a client sees a bar close before the next one forms.
        yield* hub.publish([
          ...batch.announced.map((i) => update(i, true)),
          ...kept.map((i) => update(i, true)),
          ...batch.forming.map((i) => update(i, false))
        ])
        dispatch({ _tag: "Published", written: kept, trusted: batch.trusted })
      }).pipe(
        Effect.withSpan("LiveWrites.batch", {
          attributes: { provider, timeframe, forming: batch.forming.length, closed: kept.length }
        }),
        // Only a defect gets here; the batch is logged as lost rather than ending the loop.
        Effect.catchAllCause((cause) => Effect.logError("live batch failed unexpectedly", cause)),
        Effect.ensuring(Deferred.succeed(done, undefined))
      )
    })

    /** Completed each time a batch is cut; replaced by a fresh one. */
    let cut = yield* Deferred.make<void>()

    const next = Effect.gen(function* () {
      yield* Queue.take(wake)
      yield* permits.take(1)
      const finish = yield* startBatch
      const wasCut = cut
      cut = yield* Deferred.make<void>()
      yield* Deferred.succeed(wasCut, undefined)
      if (finish === undefined) yield* permits.release(1)
      else yield* Effect.fork(Effect.ensuring(finish, permits.release(1)))
    })

    return {
      forming: (state, bar) => {
        dispatch({ _tag: "Forming", state, bar })
      },
      closed: (state, bars) => {
        dispatch({ _tag: "Closed", state, bars })
      },
      announce: (state, bars) => {
        dispatch({ _tag: "Announce", state, bars })
      },
      streaming: (state) => {
        dispatch({ _tag: "Streaming", state })
      },
      run: Effect.zipRight(
        Effect.fork(Effect.forever(Effect.zipRight(Effect.sleep(PROGRESS_EVERY), bookkeeping))),
        Effect.forever(next)
      ),
      // At most CAPACITY_WAIT: while the database is away the stream goes on being read (the
      // newest forming bars and the closed ones gather here), or it would look stale and be
      // reconnected for nothing.
      capacity: Effect.suspend(() => (hasGathered(gathering) ? Deferred.await(cut) : Effect.void)).pipe(
        Effect.zipRight(permits.withPermits(1)(Effect.void)),
        Effect.timeoutOption(CAPACITY_WAIT),
        Effect.asVoid
      ),
      flush: permits
        .withPermits(IN_FLIGHT)(Effect.flatMap(startBatch, (finish) => finish ?? Effect.void))
        .pipe(Effect.zipRight(bookkeeping))
    } satisfies LiveWrites
  })
