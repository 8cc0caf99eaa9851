/**
 * SQL for `collection_runs`: one row per run, written when it starts (so a run killed with its
 * process still shows up) and completed when it ends. This table is how an operator answers
 * "why are bars missing for X between t1 and t2": which runs covered the range, what they wrote,
 * how often they retried and what failed —
 *   SELECT * FROM datahub.collection_runs WHERE provider = 'kraken' AND symbol = 'XBT/USD'
 *     AND timeframe = '1m' AND range_from < t2 AND range_to > t1 ORDER BY id
 * Each row names the cluster runner that made the run (`single` when DataHub runs alone).
 */
import { SqlClient } from "@effect/sql"
import { Context, Duration, Effect, Layer } from "effect"
import { ClusterConfig } from "../cluster/ClusterConfig"
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

const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const { runner } = yield* ClusterConfig
  const at = (epochMs: number) => sql`to_timestamp(${epochMs}::float8 / 1000)`

  const start = (run: RunStart) =>
    sql<{ id: number }>`
      INSERT INTO datahub.collection_runs (subscription_id, provider, symbol, timeframe, kind, range_from, range_to,
                                   heartbeat_at, runner)
      VALUES (${run.subscriptionId}, ${run.provider}, ${run.symbol}, ${run.timeframe}, ${run.kind},
              ${at(run.from)}, ${at(run.to)}, now(), ${runner})
      RETURNING id`.pipe(
      Effect.map(([row]) => row?.id ?? 0),
      Effect.withSpan("CollectionRunRepo.start", { attributes: { ...run } })
    )

  const finish = (id: number, end: RunEnd) =>
    sql`UPDATE datahub.collection_runs SET status = ${end.status}, rows_written = ${end.rows}, pages = ${end.pages},
        retries = ${end.retries}, error = ${end.error}, finished_at = now(), duration_ms = ${Math.round(end.durationMs)}
      WHERE id = ${id}`.pipe(
      Effect.asVoid,
      Effect.withSpan("CollectionRunRepo.finish", { attributes: { id } })
    )

  /** A running run says it is alive (see `interruptStale`). */
  const beat = (id: number) =>
    sql`UPDATE datahub.collection_runs SET heartbeat_at = now() WHERE id = ${id} AND status = 'running'`.pipe(
      Effect.asVoid,
      Effect.withSpan("CollectionRunRepo.beat", { attributes: { id } })
    )

  /**
   * Runs still `running` that stopped beating belong to a process that died (a crash, a kill);
   * no live process owns them, so this is safe with several DataHubs on one database. Returns
   * how many were closed.
   */
  const interruptStale = (silentFor: Duration.Duration) =>
    sql<{ id: number }>`UPDATE datahub.collection_runs SET status = 'interrupted', finished_at = now(),
        error = 'never finished: its DataHub stopped (crash or kill) or lost the database meanwhile'
      WHERE status = 'running'
        AND COALESCE(heartbeat_at, started_at) < now() - make_interval(secs => ${Duration.toSeconds(silentFor)})
      RETURNING id`.pipe(
      Effect.map((rows) => rows.length),
      Effect.withSpan("CollectionRunRepo.interruptStale")
    )

  /** Old runs are only history: successful ones are kept a week, the others (failures) 90 days. */
  const prune = sql`DELETE FROM datahub.collection_runs
    WHERE (status IN ('ok', 'empty') AND started_at < now() - interval '7 days')
       OR started_at < now() - interval '90 days'`.pipe(Effect.asVoid)

  return { start, beat, finish, interruptStale, prune }
})

export class CollectionRunRepo extends Context.Tag("@quasar/datahub/collect/CollectionRunRepo")<
  CollectionRunRepo,
  Effect.Effect.Success<typeof make>
>() {
  static readonly layer = Layer.effect(CollectionRunRepo, make)
}
