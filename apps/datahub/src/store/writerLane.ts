/**
 * One lane of the BarWriter: a bounded queue drained by one fiber, one statement at a time, in
 * queue order. Batching is "natural": a batch takes what is queued (up to `maxBatchRows`) when the
 * previous one goes to the database. Under load rows pile up during each statement and batches
 * fill; when idle a single bar goes out at once. Callers wait for the commit, so lingering for
 * more rows would only add latency; `linger` exists for many tiny concurrent writers.
 *
 * The next batch is collected and encoded while the current one is in the database: encoding
 * 5,000 rows takes ~15 ms of JavaScript that the database would otherwise wait for.
 *
 * While a statement is retried (`statementWriter.ts`) the lane pauses and callers keep waiting;
 * nothing is lost. A failure no retry can fix (bad data) is narrowed to the writes that caused
 * it, which fail with `BarsRejected`; the other writes of the batch are stored.
 */

import type { SqlClient } from "@effect/sql"
import { type BulkCopy, Metrics } from "@quasar/server"
import { Deferred, Duration, Effect, Exit, Fiber, Metric, Option, Queue, Schema, type Scope } from "effect"
import { type BarRow, type BarTarget, tableOf, type UpsertStatement, upsertStatement } from "./barBatch"
import { statementWriter } from "./statementWriter"
import { describe } from "./writeFailure"

/** The database refused these rows for a reason retrying cannot fix; they are not stored. */
export class BarsRejected extends Schema.TaggedError<BarsRejected>()("BarsRejected", {
  target: Schema.Literal("historical", "live"),
  rows: Schema.Number,
  message: Schema.String
}) {}

export interface LaneOptions {
  /** A batch closes at this many rows; larger writes are queued in pieces this big. */
  readonly maxBatchRows: number
  /** Pieces that may wait in the queue before `enqueue` suspends. */
  readonly queueCapacity: number
  /** How long a batch smaller than `maxBatchRows` waits for more rows (0: go at once). */
  readonly linger: Duration.DurationInput
  /** First retry delay of a failed statement; it doubles up to `maxRetryDelay`, with jitter. */
  readonly retryDelay: Duration.DurationInput
  readonly maxRetryDelay: Duration.DurationInput
}

/** Counters shared by the lanes; plain fields, since every fiber runs on one thread. */
export interface WriterCounters {
  rowsWritten: number
  batches: number
  queuedRows: number
  inFlightRows: number
  lastBatchRows: number
  lastWriteMs: number
  lastBatchMs: number
  retries: number
  rejectedRows: number
  appendConflicts: number
  copiedRows: number
}

interface Pending {
  /** "flush" marks a point in the queue: done once everything before it is committed. */
  readonly target: BarTarget | "flush"
  readonly rows: ReadonlyArray<BarRow>
  readonly done: Deferred.Deferred<void, BarsRejected>
}

/** A batch split by target, each part encoded as its statement. */
interface Prepared {
  readonly batch: ReadonlyArray<Pending>
  readonly rows: number
  readonly groups: ReadonlyArray<readonly [BarTarget, ReadonlyArray<Pending>, UpsertStatement]>
}

export const makeLane = (
  sql: SqlClient.SqlClient,
  bulk: BulkCopy.BulkCopyService,
  options: LaneOptions,
  stats: WriterCounters,
  ready: Effect.Effect<unknown>
): Effect.Effect<Lane, never, Scope.Scope> =>
  Effect.gen(function* () {
    const queue = yield* Queue.bounded<Pending>(options.queueCapacity)
    const max = options.maxBatchRows
    const linger = Duration.decode(options.linger)
    // Writes taken from the queue and not yet completed, so that shutdown can end them all.
    const taken = new Set<Pending>()

    const { execute, encodeAhead } = statementWriter(sql, bulk, options, stats)

    /** Writes `items` (all for `target`, encoded as `statement`); isolates a permanent failure. */
    const writeGroup = (
      target: BarTarget,
      items: ReadonlyArray<Pending>,
      statement: UpsertStatement
    ): Effect.Effect<void> =>
      Effect.matchEffect(execute(target, statement, items.length), {
        onSuccess: () =>
          Effect.sync(() => {
            for (const p of items) Deferred.unsafeDone(p.done, Exit.void)
          }),
        onFailure: (e) => {
          if (items.length > 1)
            return Effect.forEach(items, (p) => writeGroup(target, [p], upsertStatement(target, p.rows)), {
              discard: true
            })
          const rows = items[0]!.rows.length
          stats.rejectedRows += rows
          const rejected = new BarsRejected({
            target,
            rows,
            message: `the database refused ${rows} bars for ${tableOf[target]}: ${describe(e)}; they are not stored — fix or drop them (other writes are unaffected)`
          })
          return Effect.zipRight(
            Effect.logError("bars rejected").pipe(Effect.annotateLogs({ error: rejected.message })),
            Deferred.fail(items[0]!.done, rejected)
          )
        }
      })

    const prepare = (batch: ReadonlyArray<Pending>, rows: number): Prepared => ({
      batch,
      rows,
      groups: (["historical", "live"] as const).flatMap((target) => {
        const items = batch.filter((p) => p.target === target)
        if (items.length === 0) return []
        const all = items.length === 1 ? items[0]!.rows : items.flatMap((p) => p.rows)
        const statement = upsertStatement(target, all)
        encodeAhead(target, statement)
        return [[target, items, statement] as const]
      })
    })

    const writeBatch = ({ batch, rows, groups }: Prepared) =>
      Effect.gen(function* () {
        const started = performance.now()
        for (const [target, items, statement] of groups) yield* writeGroup(target, items, statement)
        // Markers complete last: every row queued before them is now committed.
        for (const p of batch) Deferred.unsafeDone(p.done, Exit.void)
        stats.lastBatchMs = Math.round(performance.now() - started)
      }).pipe(
        // Whatever ends a batch early (interruption at shutdown, a defect) ends its writes too,
        // instead of leaving their callers waiting forever.
        Effect.onExit((exit) =>
          Effect.sync(() => {
            stats.inFlightRows -= rows
            for (const p of batch) {
              if (Exit.isFailure(exit)) Deferred.unsafeDone(p.done, exit)
              taken.delete(p)
            }
          })
        ),
        Effect.catchAllCause((cause) => Effect.logError("bar batch failed unexpectedly", cause))
      )

    /** Moves already-queued writes into `batch` until it holds `maxBatchRows` rows; returns its rows. */
    const pollInto = (batch: Array<Pending>, rows: number) =>
      Effect.gen(function* () {
        let n = rows
        while (n < max) {
          const next = yield* Queue.poll(queue)
          if (Option.isNone(next)) break
          taken.add(next.value)
          batch.push(next.value)
          n += next.value.rows.length
        }
        return n
      })

    /** The next batch: the oldest write plus whatever queued behind it, up to `maxBatchRows`. */
    const collect = Effect.uninterruptibleMask((restore) =>
      Effect.gen(function* () {
        const first = yield* restore(Queue.take(queue))
        taken.add(first)
        const batch = [first]
        let rows = yield* pollInto(batch, first.rows.length)
        if (rows < max && Duration.toMillis(linger) > 0) {
          yield* restore(Effect.sleep(linger)).pipe(Effect.ignore)
          rows = yield* pollInto(batch, rows)
        }
        stats.queuedRows -= rows
        stats.inFlightRows += rows
        yield* Metric.set(Metrics.writerQueueDepth, stats.queuedRows)
        return prepare(batch, rows)
      })
    )

    const drain = Effect.flatMap(Effect.fork(collect), (first) =>
      Effect.iterate(first, {
        while: () => true,
        body: (next) =>
          Effect.gen(function* () {
            const prepared = yield* Fiber.join(next)
            const following = yield* Effect.fork(collect)
            yield* writeBatch(prepared)
            return following
          })
      })
    )
    yield* Effect.forkScoped(Effect.zipRight(ready, drain))

    return {
      enqueue: (target, rows) =>
        Effect.flatMap(Deferred.make<void, BarsRejected>(), (done) =>
          // Counted before the offer: the drain may take the rows before the offer returns.
          Effect.sync(() => {
            stats.queuedRows += rows.length
          }).pipe(
            Effect.zipRight(Queue.offer(queue, { target, rows, done })),
            Effect.onInterrupt(() =>
              Effect.sync(() => {
                stats.queuedRows -= rows.length
              })
            ),
            Effect.as(done)
          )
        ),
      abandon: Effect.gen(function* () {
        for (const p of [...(yield* Queue.takeAll(queue)), ...taken])
          Deferred.unsafeDone(p.done, Effect.interrupt)
        yield* Queue.shutdown(queue)
      })
    }
  })

export interface Lane {
  /** Queues `rows` (suspending while the queue is full); the deferred completes at commit. */
  readonly enqueue: (
    target: BarTarget | "flush",
    rows: ReadonlyArray<BarRow>
  ) => Effect.Effect<Deferred.Deferred<void, BarsRejected>>
  /** Ends every write not yet committed as interrupted and closes the queue (last step of shutdown). */
  readonly abandon: Effect.Effect<void>
}
