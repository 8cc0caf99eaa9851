/** SQL for reading a series' collection history (`collection_runs`, `collection_empty_ranges`). */
import { SqlClient } from "@effect/sql"
import { Context, Effect, Layer } from "effect"
import type { Series } from "./SubscriptionRepo"

export interface HistoryWindow {
  readonly from: Date | null
  readonly to: Date | null
  readonly limit: number
}

const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient

  // A missing bound is "any": runs overlapping [from, to).
  const overlaps = (w: HistoryWindow, start: string, end: string) =>
    sql.and([
      w.to === null ? sql`true` : sql`${sql(start)} < ${w.to}`,
      w.from === null ? sql`true` : sql`${sql(end)} > ${w.from}`
    ])

  const runs = (s: Series, w: HistoryWindow) =>
    sql<{
      id: number
      subscription_id: number | null
      kind: string
      range_from: Date
      range_to: Date
      status: string
      rows_written: number
      pages: number
      retries: number
      error: string | null
      started_at: Date
      duration_ms: number | null
    }>`SELECT id, subscription_id, kind, range_from, range_to, status, rows_written, pages, retries, error,
              started_at, duration_ms
       FROM datahub.collection_runs
       WHERE provider = ${s.provider} AND symbol = ${s.symbol} AND timeframe = ${s.timeframe}
         AND ${overlaps(w, "range_from", "range_to")}
       ORDER BY id DESC LIMIT ${w.limit}`

  const emptyRanges = (s: Series, w: HistoryWindow) =>
    sql<{ range_from: Date; range_to: Date; attempts: number; checked_at: Date }>`
      SELECT range_from, range_to, attempts, checked_at FROM datahub.collection_empty_ranges
      WHERE provider = ${s.provider} AND symbol = ${s.symbol} AND timeframe = ${s.timeframe}
        AND ${overlaps(w, "range_from", "range_to")}
      ORDER BY range_from LIMIT ${w.limit}`

  const stored = (s: Series, w: HistoryWindow) =>
    sql<{ n: number }>`SELECT count(*) AS n FROM datahub.historical_data
      WHERE provider = ${s.provider} AND symbol = ${s.symbol} AND timeframe = ${s.timeframe}
        AND ${w.from === null ? sql`true` : sql`ts >= ${w.from}`} AND ${w.to === null ? sql`true` : sql`ts < ${w.to}`}`.pipe(
      Effect.map(([row]) => row?.n ?? 0)
    )

  const history = (s: Series, w: HistoryWindow) =>
    Effect.all(
      { runs: runs(s, w), emptyRanges: emptyRanges(s, w), stored: stored(s, w) },
      { concurrency: 3 }
    ).pipe(Effect.withSpan("CollectionHistoryRepo.history", { attributes: { ...s } }))

  return { history } as const
})

export class CollectionHistoryRepo extends Context.Tag("@quasar/datahub/collect/CollectionHistoryRepo")<
  CollectionHistoryRepo,
  Effect.Effect.Success<typeof make>
>() {
  static readonly layer = Layer.effect(CollectionHistoryRepo, make)
}
