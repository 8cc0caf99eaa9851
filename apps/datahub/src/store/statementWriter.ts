/**
 * Runs one lane's batch statements. Closed bars newer than any the lane stored in their series go
 * out as a binary COPY (the common case while backfilling or appending; see `binaryCopy.ts`), or
 * as a plain INSERT where COPY is not available (embedded database; ~1.6× faster than the upsert,
 * see `barBatch.ts`); anything else, and any append that meets a stored row, as the upsert. A failure that may pass (connection lost, server restarting, deadlock) is retried with
 * backoff for as long as it lasts; one no retry can fix is returned to the lane.
 */
import type { SqlClient, SqlError } from "@effect/sql"
import { type BulkCopy, Metrics } from "@quasar/server"
import { Effect, Metric, Schedule } from "effect"
import { type BarTarget, tableOf, type UpsertStatement } from "./barBatch"
import { describe, isPermanent, isUniqueViolation } from "./writeFailure"
import type { LaneOptions, WriterCounters } from "./writerLane"

// Bars written and write latency are the service-wide metrics (libs/server/src/Metrics.ts).
const batchesMetric = Metric.counter("quasar_bar_writer_batches_total", {
  description: "statements committed",
  incremental: true
})
const retriesMetric = Metric.counter("quasar_bar_writer_retries_total", {
  description: "failed attempts retried",
  incremental: true
})

export const statementWriter = (
  sql: SqlClient.SqlClient,
  bulk: BulkCopy.BulkCopyService,
  options: LaneOptions,
  stats: WriterCounters
) => {
  const retry = Schedule.exponential(options.retryDelay, 2).pipe(
    Schedule.union(Schedule.spaced(options.maxRetryDelay)),
    Schedule.jittered
  )
  // The newest open time stored per series through this lane (a series is pinned to one lane).
  const newest = new Map<string, number>()

  const appendsOnly = (target: BarTarget, statement: UpsertStatement) =>
    target === "historical" &&
    statement.series.every((s) => {
      const known = newest.get(s.key)
      // Unknown (first write since start): try; a conflict costs one statement, then it is known.
      return known === undefined || s.first > known
    })

  const committed = (target: BarTarget, statement: UpsertStatement, ms: number) =>
    Effect.gen(function* () {
      for (const s of statement.series) newest.set(s.key, Math.max(newest.get(s.key) ?? s.last, s.last))
      stats.rowsWritten += statement.rows
      stats.batches++
      stats.lastBatchRows = statement.rows
      stats.lastWriteMs = ms
      yield* Metric.incrementBy(Metric.tagged(Metrics.barsWritten, "target", target), statement.rows)
      yield* Metric.increment(Metric.tagged(batchesMetric, "target", target))
      yield* Metric.update(Metrics.writeLatency, ms / 1000)
      yield* Effect.logDebug("bars written").pipe(Effect.annotateLogs({ ms }))
    })

  const retried = (e: SqlError.SqlError) =>
    Effect.zipRight(
      Effect.sync(() => stats.retries++),
      Effect.logWarning("bar batch failed; retrying").pipe(
        Effect.annotateLogs({ error: describe(e) }),
        Effect.zipRight(Metric.increment(retriesMetric))
      )
    )

  /** The plain append: a binary COPY where possible, else an INSERT without ON CONFLICT. */
  const append = (statement: UpsertStatement) => {
    const copy = bulk.available ? statement.copy() : undefined
    return copy
      ? bulk.copyIn(statement.copyText, copy).pipe(
          Effect.tap((rows) => {
            stats.copiedRows += rows
          })
        )
      : Effect.asVoid(Effect.suspend(() => sql.unsafe(statement.append, statement.params())))
  }

  /**
   * Encodes `statement` the way it will most likely be sent; called for the next batch while
   * the current one is in the database, so the encoding overlaps the database's work.
   */
  const encodeAhead = (target: BarTarget, statement: UpsertStatement) => {
    if (!appendsOnly(target, statement) || !bulk.available || statement.copy() === undefined)
      statement.params()
  }

  /** Commits `statement` (the rows of `writes` writes); fails only with a permanent error. */
  const execute = (target: BarTarget, statement: UpsertStatement, writes: number) => {
    let started = 0
    const upsert = Effect.asVoid(Effect.suspend(() => sql.unsafe(statement.text, statement.params())))
    return Effect.suspend(() => {
      started = performance.now()
      if (!appendsOnly(target, statement)) return upsert
      return append(statement).pipe(
        Effect.catchIf(isUniqueViolation, () => {
          stats.appendConflicts++
          return upsert
        })
      )
    }).pipe(
      Effect.tapError((e) => (isPermanent(e) ? Effect.void : retried(e))),
      Effect.retry({ schedule: retry, while: (e) => !isPermanent(e) }),
      Effect.tap(() => committed(target, statement, Math.round(performance.now() - started))),
      Effect.annotateLogs({ table: tableOf[target], rows: statement.rows, writes }),
      Effect.withSpan("BarWriter.batch", {
        attributes: { table: tableOf[target], rows: statement.rows, writes }
      })
    )
  }
  return { execute, encodeAhead }
}
