/**
 * SQL for `provider_subscription`.
 * Times cross this boundary as epoch milliseconds. The collector's own updates never undo an
 * operator's decision: a status change from a run only applies while the row is still active
 * (backfilling or current), so a pause that lands during a run's commit stays a pause.
 */
import { SqlClient, type SqlError } from "@effect/sql"
import { SubscriptionMode, SubscriptionStatus, Timeframe } from "@quasar/domain"
import { Context, Effect, Layer, Option, Schema } from "effect"

export interface Series {
  readonly provider: string
  readonly symbol: string
  readonly timeframe: Timeframe.Timeframe
}

const Ms = Schema.Number
const Row = Schema.Struct({
  id: Schema.Number,
  provider: Schema.String,
  symbol: Schema.String,
  timeframe: Timeframe.Timeframe,
  mode: SubscriptionMode,
  backfillFrom: Schema.NullOr(Ms),
  status: SubscriptionStatus,
  lastBarAt: Schema.NullOr(Ms),
  nextRunAt: Schema.NullOr(Ms),
  lastError: Schema.NullOr(Schema.String),
  backfillProgress: Schema.Number,
  collectedUntil: Schema.NullOr(Ms),
  createdAt: Ms,
  runner: Schema.NullOr(Schema.String)
})
export type SubscriptionRecord = typeof Row.Type
const decodeRecords = Schema.decodeUnknown(Schema.Array(Row))

/** Rows the scheduler runs: history is collected for `history` and `both` (live is the LiveSupervisor's). */
export const isRunnable = (r: SubscriptionRecord): boolean =>
  r.mode !== "live" && (r.status === "backfilling" || r.status === "current")

export interface NewSubscriptions {
  readonly provider: string
  readonly symbol: string
  readonly timeframes: ReadonlyArray<Timeframe.Timeframe>
  readonly mode: SubscriptionMode
  /** Per timeframe (defaults differ by timeframe). */
  readonly backfillFrom: (tf: Timeframe.Timeframe) => number
}

export interface Progress {
  readonly collectedUntil: number
  readonly lastBarAt: number | null
  /** null: unchanged (a current subscription's progress is the loop's coverage check). */
  readonly progress: number | null
  readonly status: "backfilling" | "current"
}

const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const ms = (column: string) => sql.literal(`(extract(epoch FROM ${column}) * 1000)::float8`)
  const at = (epochMs: number) => sql`to_timestamp(${epochMs}::float8 / 1000)`
  const columns = sql`id, provider, symbol, timeframe, mode, ${ms("backfill_from")} AS "backfillFrom", status,
    ${ms("last_bar_at")} AS "lastBarAt", ${ms("next_run_at")} AS "nextRunAt", last_error AS "lastError",
    backfill_progress AS "backfillProgress", ${ms("collected_until")} AS "collectedUntil",
    ${ms("created_at")} AS "createdAt",
    (SELECT o.runner FROM datahub.provider_owners o
     WHERE o.provider = provider_subscription.provider AND o.released_at IS NULL) AS runner`
  const records = (rows: ReadonlyArray<unknown>) => Effect.orDie(decodeRecords(rows))
  const first = (rows: ReadonlyArray<SubscriptionRecord>) => Option.fromNullable(rows[0])
  const traced =
    (name: string, attributes: Readonly<Record<string, unknown>> = {}) =>
    <A, E, R>(self: Effect.Effect<A, E, R>) =>
      Effect.withSpan(self, `SubscriptionRepo.${name}`, { attributes })

  /**
   * Inserts what is missing (one row per timeframe), switches existing rows to the requested
   * mode, and returns every requested row with the ids that were created or changed. A row that
   * gains history collection without having collected any starts as a backfill.
   */
  const create = (input: NewSubscriptions) =>
    sql
      .withTransaction(
        Effect.gen(function* () {
          const inserted = yield* Effect.forEach(
            input.timeframes,
            (tf) =>
              sql<{ id: number }>`
            INSERT INTO datahub.provider_subscription (provider, symbol, timeframe, mode, backfill_from)
            VALUES (${input.provider}, ${input.symbol}, ${tf}, ${input.mode}, ${at(input.backfillFrom(tf))})
            ON CONFLICT (provider, symbol, timeframe) DO UPDATE SET mode = EXCLUDED.mode,
              status = CASE WHEN provider_subscription.status IN ('backfilling', 'current')
                             AND EXCLUDED.mode <> 'live' AND provider_subscription.collected_until IS NULL
                            THEN 'backfilling' ELSE provider_subscription.status END,
              updated_at = now()
            WHERE provider_subscription.mode <> EXCLUDED.mode
            RETURNING id`
          )
          const all = yield* sql`SELECT ${columns} FROM datahub.provider_subscription
          WHERE provider = ${input.provider} AND symbol = ${input.symbol}
            AND timeframe = ANY(${input.timeframes}::text[]) ORDER BY id`.pipe(Effect.flatMap(records))
          return { all, changed: inserted.flat().map((r) => r.id) }
        })
      )
      .pipe(traced("create", { provider: input.provider, symbol: input.symbol }))

  const list = (filter: { readonly provider?: string | undefined; readonly status?: string | undefined }) => {
    const clauses = [
      ...(filter.provider === undefined ? [] : [sql`provider = ${filter.provider}`]),
      ...(filter.status === undefined ? [] : [sql`status = ${filter.status}`])
    ]
    return sql`SELECT ${columns} FROM datahub.provider_subscription
      ${clauses.length > 0 ? sql`WHERE ${sql.and(clauses)}` : sql.literal("")} ORDER BY id`.pipe(
      Effect.flatMap(records),
      traced("list", { ...filter })
    )
  }

  const countFor = (provider: string) =>
    sql<{
      n: number
    }>`SELECT count(*)::int AS n FROM datahub.provider_subscription WHERE provider = ${provider}`.pipe(
      Effect.map((rows) => rows[0]?.n ?? 0),
      traced("countFor", { provider })
    )

  const get = (id: number) =>
    sql`SELECT ${columns} FROM datahub.provider_subscription WHERE id = ${id}`.pipe(
      Effect.flatMap(records),
      Effect.map(first),
      traced("get", { id })
    )

  /** The subscriptions the scheduler should run, with their provider (the runner that owns it runs them). */
  const runnable = sql<{
    id: number
    provider: string
  }>`SELECT id, provider FROM datahub.provider_subscription
    WHERE mode <> 'live' AND status IN ('backfilling', 'current') ORDER BY id`.pipe(traced("runnable"))

  const pause = (id: number) =>
    sql`UPDATE datahub.provider_subscription SET status = 'paused', next_run_at = NULL, updated_at = now()
      WHERE id = ${id} RETURNING ${columns}`.pipe(
      Effect.flatMap(records),
      Effect.map(first),
      traced("pause", { id })
    )

  /** Clears the error too; the scheduler sets `current` again once it has caught up. */
  const resume = (id: number) =>
    sql`UPDATE datahub.provider_subscription
      SET status = CASE WHEN status IN ('paused', 'error') THEN 'backfilling' ELSE status END,
          last_error = NULL, updated_at = now()
      WHERE id = ${id} RETURNING ${columns}`.pipe(
      Effect.flatMap(records),
      Effect.map(first),
      traced("resume", { id })
    )

  /** Deletes the subscription; with `purge` also its stored bars and empty-range records. */
  const remove = (id: number, purge: boolean) =>
    sql
      .withTransaction(
        Effect.gen(function* () {
          const [row] = yield* sql<{ provider: string; symbol: string; timeframe: string }>`
          DELETE FROM datahub.provider_subscription WHERE id = ${id} RETURNING provider, symbol, timeframe`
          if (!row) return false
          if (purge)
            for (const table of [
              "datahub.historical_data",
              "datahub.live_data",
              "datahub.collection_empty_ranges"
            ])
              yield* sql`DELETE FROM ${sql(table)}
              WHERE provider = ${row.provider} AND symbol = ${row.symbol} AND timeframe = ${row.timeframe}`
          return true
        })
      )
      .pipe(traced("remove", { id, purge }))

  const recordProgress = (id: number, p: Progress) =>
    sql`UPDATE datahub.provider_subscription SET
        collected_until = GREATEST(collected_until, ${at(p.collectedUntil)}),
        last_bar_at = ${p.lastBarAt === null ? sql`last_bar_at` : sql`GREATEST(last_bar_at, ${at(p.lastBarAt)})`},
        backfill_progress = ${p.progress === null ? sql`backfill_progress` : p.progress},
        status = CASE WHEN status IN ('backfilling', 'current') THEN ${p.status} ELSE status END,
        last_error = NULL, updated_at = now()
      WHERE id = ${id}`.pipe(Effect.asVoid, traced("recordProgress", { id }))

  /** A bar older than the newest (a filled gap) still counts for `last_bar_at` only if newer. */
  const recordLastBar = (id: number, lastBarAt: number) =>
    sql`UPDATE datahub.provider_subscription SET last_bar_at = GREATEST(last_bar_at, ${at(lastBarAt)}), updated_at = now()
      WHERE id = ${id}`.pipe(Effect.asVoid, traced("recordLastBar", { id }))

  const recordNextRun = (id: number, nextRunAt: number) =>
    sql`UPDATE datahub.provider_subscription SET next_run_at = ${at(nextRunAt)}, updated_at = now()
      WHERE id = ${id} AND status IN ('backfilling', 'current')`.pipe(
      Effect.asVoid,
      traced("recordNextRun", { id })
    )

  /** A run failed with its retries spent: the reason is kept, the subscription stays active. */
  const recordFailure = (id: number, message: string, nextRunAt: number) =>
    sql`UPDATE datahub.provider_subscription SET last_error = ${message}, next_run_at = ${at(nextRunAt)}, updated_at = now()
      WHERE id = ${id} AND status IN ('backfilling', 'current')`.pipe(
      Effect.asVoid,
      traced("recordFailure", { id })
    )

  /** Retrying cannot help (bad token, unknown symbol): stop until an operator resumes it. */
  const recordFatal = (id: number, message: string) =>
    sql`UPDATE datahub.provider_subscription SET status = 'error', last_error = ${message}, next_run_at = NULL,
        updated_at = now()
      WHERE id = ${id} AND status IN ('backfilling', 'current')`.pipe(
      Effect.asVoid,
      traced("recordFatal", { id })
    )

  return {
    create,
    list,
    countFor,
    get,
    runnable,
    pause,
    resume,
    remove,
    recordProgress,
    recordLastBar,
    recordNextRun,
    recordFailure,
    recordFatal
  }
})

type Service = Effect.Effect.Success<typeof make>
export type SubscriptionRepoError = SqlError.SqlError

export class SubscriptionRepo extends Context.Tag("@quasar/datahub/collect/SubscriptionRepo")<
  SubscriptionRepo,
  Service
>() {
  static readonly layer = Layer.effect(SubscriptionRepo, make)
}
