/**
 * SQL for holes in stored bars and for ranges a provider answered with nothing. A hole is found
 * with `lead(ts) OVER (ORDER BY ts)` over one series (served by the primary key's index order);
 * known-empty ranges are kept per series, not per subscription, so re-subscribing keeps them.
 */
import { SqlClient } from "@effect/sql"
import { Timeframe } from "@quasar/domain"
import { Context, Effect, Layer } from "effect"
import type { Range } from "./Plan"
import type { Series } from "./SubscriptionRepo"

/** Which holes a known-empty record hides: none (coverage), all (exchange hours), or 24/7 rechecks. */
export type EmptyFilter =
  | { readonly _tag: "None" }
  | { readonly _tag: "All" }
  | { readonly _tag: "Recheck"; readonly afterMs: number; readonly maxAttempts: number }

const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const ms = (column: string) => sql.literal(`(extract(epoch FROM ${column}) * 1000)::float8`)
  const where = (s: Series, alias = "") => {
    const a = sql.literal(alias)
    return sql`${a}provider = ${s.provider} AND ${a}symbol = ${s.symbol} AND ${a}timeframe = ${s.timeframe}`
  }

  const hidden = (filter: EmptyFilter) =>
    filter._tag === "None"
      ? sql.literal("false")
      : filter._tag === "All"
        ? sql.literal("true")
        : sql`(e.attempts >= ${filter.maxAttempts}
            OR e.checked_at > now() - make_interval(secs => ${filter.afterMs / 1000}))`

  /**
   * The holes of a series inside `bounds` (bar opens, `to` exclusive), without those `filter`
   * hides. Two sentinel bars, one before `bounds.from` and one at `bounds.to`, make a missing
   * start or end a hole like any other: coverage is measured against what should be stored (from
   * the subscription's `backfillFrom` to where collection got), not from the first stored bar.
   */
  const holeRows = (s: Series, filter: EmptyFilter, bounds: Range) => {
    const step = sql`make_interval(secs => ${Timeframe.durationMs(s.timeframe) / 1000})`
    const from = sql`to_timestamp(${bounds.from}::float8 / 1000)`
    const to = sql`to_timestamp(${bounds.to}::float8 / 1000)`
    return sql`
      WITH b AS (
        SELECT ts FROM datahub.historical_data WHERE ${where(s)} AND ts >= ${from} AND ts < ${to}
        UNION ALL SELECT ${from} - ${step}
        UNION ALL SELECT ${to}),
      h AS (
        SELECT ts + ${step} AS hole_from, next_ts AS hole_to FROM (
          SELECT ts, lead(ts) OVER (ORDER BY ts) AS next_ts FROM b
        ) pairs WHERE next_ts > ts + ${step})
      SELECT hole_from, hole_to FROM h
      WHERE NOT EXISTS (
        SELECT 1 FROM datahub.collection_empty_ranges e
        WHERE ${where(s, "e.")} AND e.range_from <= h.hole_from AND e.range_to >= h.hole_to AND ${hidden(filter)})`
  }

  /** Holes inside `bounds`, oldest first, without those `filter` hides. */
  const holes = (s: Series, filter: EmptyFilter, limit: number, bounds: Range) =>
    bounds.to <= bounds.from
      ? Effect.succeed<ReadonlyArray<Range>>([])
      : sql<Range>`
      SELECT ${ms("hole_from")} AS "from", ${ms("hole_to")} AS "to" FROM (${holeRows(s, filter, bounds)}) x
      ORDER BY hole_from LIMIT ${limit}`.pipe(
          Effect.withSpan("GapRepo.holes", { attributes: { ...s, filter: filter._tag } })
        )

  /**
   * Milliseconds of `bounds` that are neither stored nor recorded as confirmed empty: what keeps
   * a backfill below 100 %.
   */
  const unconfirmedMs = (s: Series, bounds: Range) =>
    bounds.to <= bounds.from
      ? Effect.succeed(0)
      : sql<{ ms: number | null }>`
      SELECT (extract(epoch FROM sum(hole_to - hole_from)) * 1000)::float8 AS ms
      FROM (${holeRows(s, { _tag: "All" }, bounds)}) x`.pipe(
          Effect.map(([row]) => row?.ms ?? 0),
          Effect.withSpan("GapRepo.unconfirmedMs", { attributes: { ...s } })
        )

  /** Ranges asked for that came back empty; asking again and getting nothing counts an attempt. */
  const recordEmpty = (s: Series, ranges: ReadonlyArray<Range>) =>
    ranges.length === 0
      ? Effect.void
      : sql`
      INSERT INTO datahub.collection_empty_ranges (provider, symbol, timeframe, range_from, range_to)
      SELECT ${s.provider}, ${s.symbol}, ${s.timeframe}, to_timestamp(f / 1000), to_timestamp(t / 1000)
      FROM unnest(${ranges.map((r) => r.from)}::float8[], ${ranges.map((r) => r.to)}::float8[]) AS u(f, t)
      ON CONFLICT (provider, symbol, timeframe, range_from) DO UPDATE SET
        range_to = GREATEST(collection_empty_ranges.range_to, EXCLUDED.range_to),
        attempts = collection_empty_ranges.attempts + 1, checked_at = now()`.pipe(
          Effect.asVoid,
          Effect.withSpan("GapRepo.recordEmpty", { attributes: { ...s, ranges: ranges.length } })
        )

  /**
   * First, last and count of the stored bars, and the holes inside `bounds` that `filter` does
   * not hide, read in one snapshot so that they agree while collection goes on. Without `bounds`
   * they are measured between the first and last stored bar.
   */
  const coverage = (s: Series, filter: EmptyFilter, limit: number, bounds: Partial<Range>) =>
    sql
      .withTransaction(
        Effect.gen(function* () {
          yield* sql`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ`
          const [stats] = yield* sql<{ first: number | null; last: number | null; count: number }>`
          SELECT ${ms("min(ts)")} AS first, ${ms("max(ts)")} AS last, count(*)::int AS count
          FROM datahub.historical_data WHERE ${where(s)}`
          const first = stats?.first ?? null
          const last = stats?.last ?? null
          const from = bounds.from ?? first
          // Bars stored after `bounds.to` (a live stream ahead of history) extend it.
          const to = Math.max(
            bounds.to ?? Number.NEGATIVE_INFINITY,
            last === null ? Number.NEGATIVE_INFINITY : last + Timeframe.durationMs(s.timeframe)
          )
          const holesFound =
            from === null || !Number.isFinite(to) ? [] : yield* holes(s, filter, limit, { from, to })
          return { first, last, count: stats?.count ?? 0, holes: holesFound }
        })
      )
      .pipe(Effect.withSpan("GapRepo.coverage", { attributes: { ...s, filter: filter._tag } }))

  /**
   * Which of `opens` the series does not hold: what a run asks after its write committed, so that
   * it counts the rows the database has, not the rows it sent (a trigger, a rule or a lost
   * statement can make a committed write store fewer rows than it carried). The stored rows are
   * looked at only within the range of `opens`: where the planner has no statistics for the
   * series (a table just filled), it otherwise hashed the whole series for every check, which
   * grew with the series and held a backfill of a million bars to a tenth of COPY's rate.
   */
  const unstored = (s: Series, opens: ReadonlyArray<number>) => {
    if (opens.length === 0) return Effect.succeed<ReadonlyArray<number>>([])
    let first = opens[0]!
    let last = first
    for (const open of opens) {
      if (open < first) first = open
      if (open > last) last = open
    }
    return sql<{ ts: number }>`
      SELECT x AS ts FROM unnest(${opens}::float8[]) AS u(x)
      WHERE NOT EXISTS (SELECT 1 FROM datahub.historical_data WHERE ${where(s)}
        AND ts >= to_timestamp(${first}::float8 / 1000) AND ts <= to_timestamp(${last}::float8 / 1000)
        AND ts = to_timestamp(x / 1000))
      ORDER BY x`.pipe(
      Effect.map((rows) => rows.map((r) => r.ts)),
      Effect.withSpan("GapRepo.unstored", { attributes: { ...s, bars: opens.length } })
    )
  }

  return { holes, unconfirmedMs, recordEmpty, coverage, unstored }
})

export class GapRepo extends Context.Tag("@quasar/datahub/collect/GapRepo")<
  GapRepo,
  Effect.Effect.Success<typeof make>
>() {
  static readonly layer = Layer.effect(GapRepo, make)
}
