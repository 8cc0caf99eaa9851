/**
 * SQL for `collection_runs`: one row per run, written when it starts (so a run killed with its
 * process still shows up) and completed when it ends. This table is how an operator answers
 * "why are bars missing for X between t1 and t2": which runs covered the range, what they wrote,
 * how often they retried and what failed.
 */
import { SqlClient } from "@effect/sql"
import { Context, Duration, Effect, Layer } from "effect"
import type { Series } from "./SubscriptionRepo"

export type RunKind = "backfill" | "update" | "gap"
export type RunStatus = "ok" | "empty" | "failed" | "interrupted"

export interface RunStart extends Series {
  readonly subscriptionId: number
  readonly kind: RunKind
  readonly from: number
  readonly to: number
}

export interface RunEnd {
  readonly status: RunStatus
  readonly rows: number
  readonly pages: number
  readonly retries: number
  readonly error: string | null
  readonly durationMs: number
}

export interface RunRecord extends RunStart, Omit<RunEnd, "status" | "durationMs"> {
  readonly id: number
  readonly status: RunStatus | "running"
  readonly durationMs: number | null
}

const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const ms = (column: string) => sql.literal(`(extract(epoch FROM ${column}) * 1000)::float8`)
  const at = (epochMs: number) => sql`to_timestamp(${epochMs}::float8 / 1000)`

  const start = (run: RunStart) =>
    sql<{ id: number }>`
      INSERT INTO collection_runs (subscription_id, provider, symbol, timeframe, kind, range_from, range_to)
      VALUES (${run.subscriptionId}, ${run.provider}, ${run.symbol}, ${run.timeframe}, ${run.kind},
              ${at(run.from)}, ${at(run.to)})
      RETURNING id`.pipe(
      Effect.map(([row]) => row?.id ?? 0),
      Effect.withSpan("CollectionRunRepo.start", { attributes: { ...run } })
    )

  const finish = (id: number, end: RunEnd) =>
    sql`UPDATE collection_runs SET status = ${end.status}, rows_written = ${end.rows}, pages = ${end.pages},
        retries = ${end.retries}, error = ${end.error}, finished_at = now(), duration_ms = ${Math.round(end.durationMs)}
      WHERE id = ${id}`.pipe(
      Effect.asVoid,
      Effect.withSpan("CollectionRunRepo.finish", { attributes: { id } })
    )

  /**
   * Runs still `running` long after any run could have ended belong to a process that died; no
   * live process owns them, so this is safe with several DataHubs on one database.
   */
  const interruptStale = (olderThan: Duration.Duration) =>
    sql`UPDATE collection_runs SET status = 'interrupted', finished_at = now(),
        error = 'never finished: its DataHub stopped or lost the database meanwhile'
      WHERE status = 'running'
        AND started_at < now() - make_interval(secs => ${Duration.toSeconds(olderThan)})`.pipe(Effect.asVoid)

  /** Old runs are only history: successful ones are kept a week, the others (failures) 90 days. */
  const prune = sql`DELETE FROM collection_runs
    WHERE (status IN ('ok', 'empty') AND started_at < now() - interval '7 days')
       OR started_at < now() - interval '90 days'`.pipe(Effect.asVoid)

  /** Runs of a series overlapping [from, to), oldest first. */
  const overlapping = (s: Series, from: number, to: number) =>
    sql<RunRecord>`SELECT id, subscription_id AS "subscriptionId", provider, symbol, timeframe, kind,
        ${ms("range_from")} AS "from", ${ms("range_to")} AS "to", status, rows_written AS rows, pages, retries,
        error, duration_ms AS "durationMs"
      FROM collection_runs
      WHERE provider = ${s.provider} AND symbol = ${s.symbol} AND timeframe = ${s.timeframe}
        AND range_from < ${at(to)} AND range_to > ${at(from)}
      ORDER BY id`

  return { start, finish, interruptStale, prune, overlapping }
})

export class CollectionRunRepo extends Context.Tag("@quasar/datahub/collect/CollectionRunRepo")<
  CollectionRunRepo,
  Effect.Effect.Success<typeof make>
>() {
  static readonly layer = Layer.effect(CollectionRunRepo, make)
}
