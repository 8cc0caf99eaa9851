/**
 * The one writer of bars. Collectors `write` rows; a bounded queue holds them and one fiber drains
 * it in batches, each one idempotent upsert per target (see `barBatch.ts`). `write` returns only
 * once its rows are committed, so a caller may record progress right after it; while the queue is
 * full `write` suspends, so collectors slow down to the database's pace.
 *
 * Batching is "natural": a batch takes what is queued (up to `maxBatchRows`) the moment the
 * previous one commits. Under load rows pile up during each statement and batches fill; when idle
 * a single bar goes out at once. Callers wait for the commit, so lingering for more rows would
 * only add latency; `linger` exists for callers that write many tiny batches concurrently.
 *
 * A failed batch is retried with backoff for as long as the failure may pass (connection lost,
 * server restarting, deadlock): writes pause, callers keep waiting, nothing is lost. A failure a
 * retry cannot fix (bad data) is narrowed to the writes that caused it, which fail with
 * `BarsRejected`; the others in the batch are stored. On shutdown the queue is drained first.
 */
import { SqlClient, type SqlError } from "@effect/sql"
import { SchemaState } from "@quasar/server"
import { Context, Deferred, Duration, Effect, Exit, Layer, Metric, Option, Queue, Schedule, Schema } from "effect"
import { type BarRow, type BarTarget, tableOf, upsertStatement } from "./barBatch"

export type { BarRow, BarTarget } from "./barBatch"

/** The database refused these rows for a reason retrying cannot fix; they are not stored. */
export class BarsRejected extends Schema.TaggedError<BarsRejected>()("BarsRejected", {
  target: Schema.Literal("historical", "live"),
  rows: Schema.Number,
  message: Schema.String
}) {}

export interface BarWriterOptions {
  /** A batch closes once it holds this many rows; larger writes are split into pieces this big. */
  readonly maxBatchRows: number
  /** Writes (pieces of at most `maxBatchRows`) that may wait in the queue before `write` suspends. */
  readonly queueCapacity: number
  /** How long a batch smaller than `maxBatchRows` waits for more rows (0: go at once). */
  readonly linger: Duration.DurationInput
  /** First retry delay of a failed batch; it doubles up to `maxRetryDelay`, with jitter. */
  readonly retryDelay: Duration.DurationInput
  readonly maxRetryDelay: Duration.DurationInput
  /** How long shutdown waits for queued rows to be committed before giving up on them. */
  readonly shutdownTimeout: Duration.DurationInput
}

export const defaults: BarWriterOptions = {
  maxBatchRows: 5_000,
  queueCapacity: 32,
  linger: Duration.zero,
  retryDelay: Duration.millis(100),
  maxRetryDelay: Duration.seconds(5),
  shutdownTimeout: Duration.seconds(20)
}

export interface BarWriterStats {
  /** Rows committed (after de-duplication inside each batch). */
  readonly rowsWritten: number
  readonly batches: number
  /** Rows waiting in the queue, and rows of the batch being written. */
  readonly queuedRows: number
  readonly inFlightRows: number
  readonly lastBatchRows: number
  /** Duration of the last committed statement, and of the whole last batch including retries. */
  readonly lastWriteMs: number
  readonly lastBatchMs: number
  readonly retries: number
  readonly rejectedRows: number
}

interface Pending {
  /** "flush" marks a point in the queue: done once everything before it is committed. */
  readonly target: BarTarget | "flush"
  readonly rows: ReadonlyArray<BarRow>
  readonly done: Deferred.Deferred<void, BarsRejected>
}

/** SQLSTATE classes no retry can fix: data exception (22), integrity violation (23), syntax or undefined object (42). */
const PERMANENT = /^(22|23|42)/

const sqlState = (e: SqlError.SqlError): string | undefined => {
  const cause: unknown = e.cause
  return typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string"
    ? cause.code
    : undefined
}

/** Connection errors carry no SQLSTATE (or a Node code such as ECONNREFUSED): they may pass. */
const isPermanent = (e: SqlError.SqlError) => PERMANENT.test(sqlState(e) ?? "")

const describe = (e: SqlError.SqlError) => {
  const cause: unknown = e.cause
  const reason = cause instanceof Error ? cause.message : e.message
  const state = sqlState(e)
  return state ? `${reason} (SQLSTATE ${state})` : reason
}

const rowsMetric = Metric.counter("quasar_bar_writer_rows_total", { description: "bars committed" })
const batchesMetric = Metric.counter("quasar_bar_writer_batches_total", { description: "statements committed" })
const retriesMetric = Metric.counter("quasar_bar_writer_retries_total", { description: "failed attempts retried" })
const queueMetric = Metric.gauge("quasar_bar_writer_queued_rows", { description: "rows waiting to be written" })
const latencyMetric = Metric.gauge("quasar_bar_writer_write_ms", { description: "last statement duration" })

const make = (options: BarWriterOptions) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const schema = yield* SchemaState.SchemaState
    const queue = yield* Queue.bounded<Pending>(options.queueCapacity)
    const max = options.maxBatchRows
    const linger = Duration.decode(options.linger)
    // Plain counters: every fiber runs on one thread, and reading them must cost nothing.
    const stats = {
      rowsWritten: 0,
      batches: 0,
      queuedRows: 0,
      inFlightRows: 0,
      lastBatchRows: 0,
      lastWriteMs: 0,
      lastBatchMs: 0,
      retries: 0,
      rejectedRows: 0
    }
    const retry = Schedule.exponential(options.retryDelay, 2).pipe(
      Schedule.union(Schedule.spaced(options.maxRetryDelay)),
      Schedule.jittered
    )

    const execute = (target: BarTarget, rows: ReadonlyArray<BarRow>, writes: number) => {
      const statement = upsertStatement(target, rows)
      let started = 0
      const attempt = Effect.suspend(() => {
        started = performance.now()
        return sql.unsafe(statement.text, statement.params)
      })
      return attempt.pipe(
        Effect.tapError((e) =>
          isPermanent(e)
            ? Effect.void
            : Effect.zipRight(
                Effect.sync(() => stats.retries++),
                Effect.logWarning("bar batch failed; retrying").pipe(
                  Effect.annotateLogs({ error: describe(e) }),
                  Effect.zipRight(Metric.increment(retriesMetric))
                )
              )
        ),
        Effect.retry({ schedule: retry, while: (e) => !isPermanent(e) }),
        Effect.tap(() =>
          Effect.gen(function* () {
            const ms = Math.round(performance.now() - started)
            stats.rowsWritten += statement.rows
            stats.batches++
            stats.lastBatchRows = statement.rows
            stats.lastWriteMs = ms
            yield* Metric.incrementBy(Metric.tagged(rowsMetric, "target", target), statement.rows)
            yield* Metric.increment(Metric.tagged(batchesMetric, "target", target))
            yield* Metric.set(latencyMetric, ms)
            yield* Effect.logDebug("bars written").pipe(Effect.annotateLogs({ rows: statement.rows, ms }))
          })
        ),
        Effect.annotateLogs({ table: tableOf[target], rows: statement.rows, writes }),
        Effect.withSpan("BarWriter.batch", { attributes: { table: tableOf[target], rows: statement.rows, writes } })
      )
    }

    /** Writes `items` (all for `target`); on a permanent failure, retries them one by one to isolate it. */
    const writeGroup = (target: BarTarget, items: ReadonlyArray<Pending>): Effect.Effect<void> => {
      const rows = items.length === 1 ? items[0]!.rows : items.flatMap((p) => p.rows)
      return Effect.matchEffect(execute(target, rows, items.length), {
        onSuccess: () => Effect.sync(() => items.forEach((p) => Deferred.unsafeDone(p.done, Exit.void))),
        onFailure: (e) => {
          if (items.length > 1) return Effect.forEach(items, (p) => writeGroup(target, [p]), { discard: true })
          stats.rejectedRows += rows.length
          const rejected = new BarsRejected({
            target,
            rows: rows.length,
            message: `the database refused ${rows.length} bars for ${tableOf[target]}: ${describe(e)}; they are not stored — fix or drop them (other writes are unaffected)`
          })
          return Effect.zipRight(
            Effect.logError("bars rejected").pipe(Effect.annotateLogs({ error: rejected.message })),
            Deferred.fail(items[0]!.done, rejected)
          )
        }
      })
    }

    const writeBatch = (batch: ReadonlyArray<Pending>, rows: number) =>
      Effect.gen(function* () {
        const started = performance.now()
        stats.inFlightRows = rows
        for (const target of ["historical", "live"] as const) {
          const items = batch.filter((p) => p.target === target)
          if (items.length > 0) yield* writeGroup(target, items)
        }
        // Markers complete last: every row queued before them is now committed.
        for (const p of batch) Deferred.unsafeDone(p.done, Exit.void)
        stats.inFlightRows = 0
        stats.lastBatchMs = Math.round(performance.now() - started)
      }).pipe(
        // Whatever ends this batch early (interruption at shutdown, a defect) ends its writes too,
        // instead of leaving their callers waiting forever.
        Effect.onExit((exit) =>
          Exit.isSuccess(exit)
            ? Effect.void
            : Effect.sync(() => batch.forEach((p) => Deferred.unsafeDone(p.done, exit)))
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
          batch.push(next.value)
          n += next.value.rows.length
        }
        return n
      })

    /** The next batch: the oldest write plus whatever queued behind it, up to `maxBatchRows`. */
    const collect = Effect.gen(function* () {
      const batch = [yield* Queue.take(queue)]
      let rows = yield* pollInto(batch, batch[0]!.rows.length)
      if (rows < max && Duration.toMillis(linger) > 0) {
        yield* Effect.sleep(linger)
        rows = yield* pollInto(batch, rows)
      }
      stats.queuedRows -= rows
      yield* Metric.set(queueMetric, stats.queuedRows)
      return [batch, rows] as const
    })

    yield* schema.ready.pipe(
      Effect.zipRight(Effect.forever(Effect.flatMap(collect, ([batch, rows]) => writeBatch(batch, rows)))),
      Effect.forkScoped
    )

    const enqueue = (target: BarTarget | "flush", rows: ReadonlyArray<BarRow>) =>
      Effect.flatMap(Deferred.make<void, BarsRejected>(), (done) =>
        Queue.offer(queue, { target, rows, done }).pipe(
          Effect.tap(() => {
            stats.queuedRows += rows.length
          }),
          Effect.as(done)
        )
      )

    const write = (target: BarTarget, rows: ReadonlyArray<BarRow>): Effect.Effect<void, BarsRejected> =>
      Effect.gen(function* () {
        if (rows.length === 0) return
        const pieces: Array<Deferred.Deferred<void, BarsRejected>> = []
        for (let i = 0; i < rows.length; i += max)
          pieces.push(yield* enqueue(target, rows.length <= max ? rows : rows.slice(i, i + max)))
        yield* Effect.forEach(pieces, Deferred.await, { discard: true })
      })

    const flush: Effect.Effect<void> = Effect.flatMap(enqueue("flush", []), Deferred.await).pipe(
      Effect.orDie,
      Effect.withSpan("BarWriter.flush")
    )

    // Runs before the drain fiber is interrupted (finalizers run in reverse order of addition).
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        const queued = stats.queuedRows + stats.inFlightRows
        const flushed = yield* Effect.timeoutOption(flush, options.shutdownTimeout)
        if (Option.isSome(flushed)) {
          if (queued > 0) yield* Effect.logInfo("bar writer drained").pipe(Effect.annotateLogs({ rows: queued }))
        } else {
          yield* Effect.logError("bar writer could not commit every queued row before shutdown").pipe(
            Effect.annotateLogs({ rows: stats.queuedRows + stats.inFlightRows })
          )
        }
        const left = yield* Queue.takeAll(queue)
        for (const p of left) Deferred.unsafeDone(p.done, Effect.interrupt)
        yield* Queue.shutdown(queue)
      })
    )

    return {
      write,
      flush,
      stats: Effect.sync((): BarWriterStats => ({ ...stats }))
    } as const
  })

export class BarWriter extends Context.Tag("@quasar/datahub/BarWriter")<
  BarWriter,
  {
    /** Stores `rows` in `target`; completes once they are committed (suspends while the queue is full). */
    readonly write: (target: BarTarget, rows: ReadonlyArray<BarRow>) => Effect.Effect<void, BarsRejected>
    /** Completes once every row queued before it is committed. */
    readonly flush: Effect.Effect<void>
    readonly stats: Effect.Effect<BarWriterStats>
  }
>() {
  static readonly layerWith = (overrides: Partial<BarWriterOptions>) =>
    Layer.scoped(BarWriter, make({ ...defaults, ...overrides }))
  static readonly layer = BarWriter.layerWith({})
}
