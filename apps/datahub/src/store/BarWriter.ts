/**
 * The one writer of bars. Collectors `write` rows; bounded queues hold them and each is drained in
 * batches, one idempotent statement per target per batch (`writerLane.ts`): an upsert, or a plain
 * INSERT for bars newer than any stored in their series (`statementWriter.ts`, `barBatch.ts`).
 * `write` returns only once its rows are committed, so a caller may record progress right after
 * it; while a queue is full `write` suspends, so collectors slow down to the database's pace.
 *
 * Lanes: an upsert inserts row by row (unlike COPY's multi-insert), so one statement at a time
 * keeps one PostgreSQL backend busy and leaves the other cores idle; two statements in flight
 * commit about 1.75× the rows. Each (series,
 * day) is pinned to one lane, and a lane runs its statements one at a time in queue order, so
 * writes of one bar are applied in the order they were made, and lanes never touch the same rows
 * (no deadlocks between them), while one series' backfill still uses every lane. `lanes: 1` is a single queue drained by a single fiber.
 *
 * On shutdown (the layer's scope closing, e.g. SIGTERM) everything queued is committed first.
 */
import { SqlClient } from "@effect/sql"
import { BulkCopy, SchemaState } from "@quasar/server"
import { Context, Deferred, Duration, Effect, Layer, Option } from "effect"
import { type BarRow, type BarTarget, rowKey, sameSeries } from "./barBatch"
import { BarsRejected, type LaneOptions, makeLane, type WriterCounters } from "./writerLane"

export type { BarRow, BarTarget } from "./barBatch"
export { BarsRejected } from "./writerLane"

export interface BarWriterOptions extends LaneOptions {
  /** Statements in flight at once, each on its own connection (at most the pool size). */
  readonly lanes: number
  /** How long shutdown waits for queued rows to be committed before giving up on them. */
  readonly shutdownTimeout: Duration.DurationInput
}

export const defaults: BarWriterOptions = {
  lanes: 2,
  maxBatchRows: 5_000,
  // At most 16 pieces of 5,000 rows wait per lane before `write` suspends.
  queueCapacity: 16,
  linger: Duration.zero,
  retryDelay: Duration.millis(100),
  maxRetryDelay: Duration.seconds(5),
  shutdownTimeout: Duration.seconds(20)
}

export interface BarWriterStats {
  /** Rows committed (after de-duplication inside each batch) and statements that committed them. */
  readonly rowsWritten: number
  readonly batches: number
  /** Rows waiting in the queues, and rows of the batches being written. */
  readonly queuedRows: number
  readonly inFlightRows: number
  readonly lastBatchRows: number
  /** Duration of the last committed statement, and of the last whole batch including retries. */
  readonly lastWriteMs: number
  readonly lastBatchMs: number
  /** Failed attempts that were retried, and rows refused for good (`BarsRejected`). */
  readonly retries: number
  readonly rejectedRows: number
  /** Appends (plain INSERTs of bars newer than any stored) that met stored rows and were upserted. */
  readonly appendConflicts: number
  /** Rows appended through binary COPY (the rest of the appends went as INSERTs). */
  readonly copiedRows: number
}

/**
 * Rows are routed by (series, UTC day of the open time): one bar always lands in the same lane,
 * so its writes stay in order, while a long backfill of one series spreads over every lane.
 */
const BLOCK_MS = 86_400_000

/** FNV-1a over the series key, then the day: a stable lane without remembering every key ever seen. */
const laneOf = (key: string, day: number) => {
  let h = 0x811c9dc5
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193)
  return Math.imul(h ^ day, 0x01000193) >>> 0
}

/**
 * Why a write must not reach the database, if it must not. PostgreSQL stores NaN and ±Infinity in
 * double precision columns, but they have no JSON form and would break every page served later.
 */
const problemOf = (rows: ReadonlyArray<BarRow>): string | undefined => {
  for (const r of rows) {
    if (!Number.isSafeInteger(r.ts))
      return `open time ${r.ts} of ${r.symbol} is not an epoch-millisecond integer`
    const finite =
      Number.isFinite(r.open) &&
      Number.isFinite(r.high) &&
      Number.isFinite(r.low) &&
      Number.isFinite(r.close) &&
      Number.isFinite(r.volume) &&
      Number.isFinite(r.vwap ?? 0) &&
      Number.isFinite(r.trades ?? 0)
    if (!finite)
      return `the bar of ${r.symbol} at ${new Date(r.ts).toISOString()} has a value that is not a finite number`
  }
  return undefined
}

const make = (options: BarWriterOptions) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const schema = yield* SchemaState.SchemaState
    const bulk = yield* BulkCopy.BulkCopy
    const stats: WriterCounters = {
      rowsWritten: 0,
      batches: 0,
      queuedRows: 0,
      inFlightRows: 0,
      lastBatchRows: 0,
      lastWriteMs: 0,
      lastBatchMs: 0,
      retries: 0,
      rejectedRows: 0,
      appendConflicts: 0,
      copiedRows: 0
    }
    const lanes = yield* Effect.forEach(Array.from({ length: Math.max(1, options.lanes) }), () =>
      makeLane(sql, bulk, options, stats, schema.ready)
    )

    const submit = (
      target: BarTarget,
      rows: ReadonlyArray<BarRow>
    ): Effect.Effect<Effect.Effect<void, BarsRejected>, BarsRejected> =>
      Effect.gen(function* () {
        if (rows.length === 0) return Effect.void
        const problem = problemOf(rows)
        if (problem !== undefined)
          return yield* new BarsRejected({
            target,
            rows: rows.length,
            message: `${problem}: these ${rows.length} bars are not stored; validate bars (ValidBar) before writing`
          })
        const pieces: Array<Deferred.Deferred<void, BarsRejected>> = []
        // One piece per lane (cut at the batch size), not per series: a live write touching
        // 2,000 series would otherwise queue 2,000 tiny statements. Rows of a write mostly share
        // one series and run in time order, so a lane is looked up only when the series or the
        // day changes.
        const perLane = new Map<number, Array<BarRow>>()
        let previous: BarRow | undefined
        let day = Number.NaN
        let bucket: Array<BarRow> = []
        for (const r of rows) {
          const rowDay = Math.floor(r.ts / BLOCK_MS)
          if (previous === undefined || rowDay !== day || !sameSeries(r, previous)) {
            const n = laneOf(rowKey(r), rowDay) % lanes.length
            const known = perLane.get(n)
            bucket = known ?? []
            if (known === undefined) perLane.set(n, bucket)
            day = rowDay
          }
          bucket.push(r)
          previous = r
        }
        for (const [n, laneRows] of perLane)
          for (let i = 0; i < laneRows.length; i += options.maxBatchRows)
            pieces.push(
              yield* lanes[n]!.enqueue(
                target,
                laneRows.length <= options.maxBatchRows
                  ? laneRows
                  : laneRows.slice(i, i + options.maxBatchRows)
              )
            )
        return Effect.forEach(pieces, Deferred.await, { discard: true })
      })

    const flush: Effect.Effect<void> = Effect.forEach(lanes, (l) => l.enqueue("flush", [])).pipe(
      Effect.flatMap((markers) => Effect.forEach(markers, Deferred.await, { discard: true })),
      Effect.orDie,
      Effect.withSpan("BarWriter.flush")
    )

    // Runs before the lanes' drain fibers are interrupted (finalizers run in reverse order).
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        const queued = stats.queuedRows + stats.inFlightRows
        const flushed = yield* Effect.timeoutOption(flush, options.shutdownTimeout)
        if (Option.isNone(flushed))
          yield* Effect.logError("bar writer could not commit every queued row before shutdown").pipe(
            Effect.annotateLogs({ rows: stats.queuedRows + stats.inFlightRows })
          )
        else if (queued > 0)
          yield* Effect.logInfo("bar writer drained").pipe(Effect.annotateLogs({ rows: queued }))
        // Whatever could not be committed ends interrupted rather than leaving its caller waiting.
        yield* Effect.forEach(lanes, (l) => l.abandon, { discard: true })
      })
    )

    return {
      write: (target: BarTarget, rows: ReadonlyArray<BarRow>) => Effect.flatten(submit(target, rows)),
      submit,
      flush,
      stats: Effect.sync((): BarWriterStats => ({ ...stats }))
    } as const
  })

export class BarWriter extends Context.Tag("@quasar/datahub/BarWriter")<
  BarWriter,
  {
    /** Stores `rows` in `target`; completes once they are committed (suspends while the queue is full). */
    readonly write: (target: BarTarget, rows: ReadonlyArray<BarRow>) => Effect.Effect<void, BarsRejected>
    /**
     * `write` in two steps: queues `rows` (suspending while the queue is full) and returns what
     * waits for their commit. Writes queued one after another are applied in that order, so a
     * caller may queue the next before the previous committed.
     */
    readonly submit: (
      target: BarTarget,
      rows: ReadonlyArray<BarRow>
    ) => Effect.Effect<Effect.Effect<void, BarsRejected>, BarsRejected>
    /** Completes once every row queued before it is committed. */
    readonly flush: Effect.Effect<void>
    readonly stats: Effect.Effect<BarWriterStats>
  }
>() {
  static readonly layerWith = (overrides: Partial<BarWriterOptions>) =>
    Layer.scoped(BarWriter, make({ ...defaults, ...overrides }))
  static readonly layer = BarWriter.layerWith({})
}
