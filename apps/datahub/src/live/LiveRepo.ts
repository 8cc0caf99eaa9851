/**
 * The SQL of live streaming. Times cross this boundary as epoch milliseconds. Like the scheduler's
 * updates, these never undo an operator's decision: status changes apply only to rows still
 * active (backfilling or current), so a pause that lands meanwhile stays a pause.
 */
import { SqlClient } from "@effect/sql"
import { SubscriptionMode, Timeframe } from "@quasar/domain"
import { Context, Effect, Layer, Schema } from "effect"

const LiveRow = Schema.Struct({
  id: Schema.Number,
  provider: Schema.String,
  symbol: Schema.String,
  timeframe: Timeframe.Timeframe,
  mode: SubscriptionMode
})
export type LiveSubscription = typeof LiveRow.Type
const decodeRows = Schema.decodeUnknown(Schema.Array(LiveRow))

const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const traced =
    (name: string, attributes: Readonly<Record<string, unknown>> = {}) =>
    <A, E, R>(self: Effect.Effect<A, E, R>) =>
      Effect.withSpan(self, `LiveRepo.${name}`, { attributes })

  /** Every subscription that should be streaming now. */
  const subscriptions = sql`SELECT id, provider, symbol, timeframe, mode FROM datahub.provider_subscription
    WHERE mode IN ('live', 'both') AND status IN ('backfilling', 'current') ORDER BY id`.pipe(
    Effect.flatMap((rows) => Effect.orDie(decodeRows(rows))),
    traced("subscriptions")
  )

  /** The newest stored closed bar of each of `symbols` (absent: none stored). */
  const lastStored = (provider: string, timeframe: string, symbols: ReadonlyArray<string>) =>
    sql<{ symbol: string; ts: number }>`
      SELECT symbol, (extract(epoch FROM max(ts)) * 1000)::float8 AS ts FROM datahub.historical_data
      WHERE provider = ${provider} AND timeframe = ${timeframe} AND symbol = ANY(${symbols}::text[])
      GROUP BY symbol`.pipe(
      Effect.map((rows) => new Map(rows.map((r) => [r.symbol, r.ts]))),
      traced("lastStored", { provider, timeframe, symbols: symbols.length })
    )

  /** Where each subscription's history collection has got to (its REST versions are final there). */
  const collectedUntil = (ids: ReadonlyArray<number>) =>
    sql<{ id: number; until: number | null }>`
      SELECT id, (extract(epoch FROM collected_until) * 1000)::float8 AS until
      FROM datahub.provider_subscription WHERE id = ANY(${ids}::int[])`.pipe(
      Effect.map(
        (rows) => new Map(rows.flatMap((r) => (r.until === null ? [] : [[r.id, r.until] as const])))
      ),
      traced("collectedUntil", { subscriptions: ids.length })
    )

  /** Live-only subscriptions whose stream is trusted are `current` (history ones: the scheduler's call). */
  const markStreaming = (ids: ReadonlyArray<number>) =>
    sql`UPDATE datahub.provider_subscription SET status = 'current', last_error = NULL, updated_at = now()
      WHERE id = ANY(${ids}::int[]) AND mode = 'live' AND status IN ('backfilling', 'current')
        AND (status <> 'current' OR last_error IS NOT NULL)`.pipe(
      Effect.asVoid,
      traced("markStreaming", { subscriptions: ids.length })
    )

  /** `last_bar_at` of many subscriptions in one statement; an older bar never moves it back. */
  const recordLastBars = (latest: ReadonlyMap<number, number>) =>
    sql`UPDATE datahub.provider_subscription AS s
      SET last_bar_at = GREATEST(s.last_bar_at, to_timestamp(u.ms / 1000)), updated_at = now()
      FROM unnest(${[...latest.keys()]}::int[], ${[...latest.values()]}::float8[]) AS u(id, ms)
      WHERE s.id = u.id`.pipe(Effect.asVoid, traced("recordLastBars", { subscriptions: latest.size }))

  /** The provider refused the symbol: this subscription stops until an operator resumes it. */
  const recordRejected = (id: number, message: string) =>
    sql`UPDATE datahub.provider_subscription SET status = 'error', last_error = ${message}, next_run_at = NULL,
        updated_at = now()
      WHERE id = ${id} AND status IN ('backfilling', 'current')`.pipe(
      Effect.asVoid,
      traced("recordRejected", { id })
    )

  /** Forming bars are only interesting while they form; a day later the closed bar is history. */
  const pruneLive = sql`DELETE FROM datahub.live_data WHERE ts < now() - interval '1 day'`.pipe(
    Effect.asVoid,
    traced("pruneLive")
  )

  return {
    subscriptions,
    lastStored,
    collectedUntil,
    markStreaming,
    recordLastBars,
    recordRejected,
    pruneLive
  }
})

export class LiveRepo extends Context.Tag("@quasar/datahub/live/LiveRepo")<
  LiveRepo,
  Effect.Effect.Success<typeof make>
>() {
  static readonly layer = Layer.effect(LiveRepo, make)
}
