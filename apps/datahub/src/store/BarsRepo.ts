/**
 * SQL for reading bars. Pages are rendered to JSON or CSV text by PostgreSQL itself (`barText`).
 * Every query reads `historical_data` by its primary key (provider, symbol, timeframe, ts), so a
 * page costs an index range scan of its own rows.
 */
import { SqlClient } from "@effect/sql"
import { type BarPoint, Timeframe } from "@quasar/domain"
import { Context, Effect, Layer, Option, Ref } from "effect"
import { type Chunk, joinChunks, type PageFormat, renderChunks } from "./barText"
import { type BucketFunction, bucketParam, pageWindow, resampledRows } from "./resample"

export type { PageFormat } from "./barText"

export interface Series {
  readonly provider: string
  readonly symbol: string
  readonly timeframe: Timeframe.Timeframe
}

/** One page of a series: bars with `from <= ts < to` and `ts > after`, oldest first. */
export interface PageRequest {
  readonly series: Series
  readonly from: number | undefined
  readonly to: number | undefined
  /** Open time of the last bar already served (the cursor). */
  readonly after: number | undefined
  readonly limit: number
  readonly resample: Timeframe.Timeframe | undefined
}

export interface Page {
  /**
   * The bars rendered, in pieces to be sent one after another (never joined into one big string):
   * a JSON array, or CSV lines each ending in a newline.
   */
  readonly parts: ReadonlyArray<string>
  readonly count: number
  /** Open time of the last bar in the page, and whether more bars follow it within the range. */
  readonly lastMs: number | null
  readonly more: boolean
}

const storedRows = `
  SELECT ts, open, high, low, close, volume, vwap, trades FROM datahub.historical_data
  WHERE provider = $1 AND symbol = $2 AND timeframe = $3 AND ts >= $4 AND ts < $5 AND ts > $6
  ORDER BY ts LIMIT $7`

const moreAfter = `
  SELECT EXISTS (SELECT 1 FROM datahub.historical_data
                 WHERE provider = $1 AND symbol = $2 AND timeframe = $3 AND ts > $4 AND ts < $5) AS more`

/** Years 1 to 9999: outside them `toISOString` writes a form PostgreSQL does not read. */
const FIRST_MS = -62_135_596_800_000 // 0001-01-01T00:00:00Z
const LAST_MS = 253_402_300_799_999 // 9999-12-31T23:59:59.999Z

/** A bound as a timestamptz literal; an open bound is `open`, one beyond the years 1–9999 infinite. */
export const toTimestamp = (ms: number | undefined, open: "-infinity" | "infinity") =>
  ms === undefined
    ? open
    : ms < FIRST_MS
      ? "-infinity"
      : ms > LAST_MS
        ? "infinity"
        : new Date(ms).toISOString()

const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const engine = yield* Ref.make(Option.none<BucketFunction>())

  /** `time_bucket` where TimescaleDB is installed, else `date_bin`; asked once per process. */
  const bucketFunction = Effect.flatMap(Ref.get(engine), (known) =>
    Option.match(known, {
      onSome: Effect.succeed,
      onNone: () =>
        sql<{ installed: boolean }>`
          SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') AS installed`.pipe(
          Effect.map(([row]): BucketFunction => (row?.installed ? "time_bucket" : "date_bin")),
          Effect.tap((fn) => Ref.set(engine, Option.some(fn)))
        )
    })
  )

  const more = (series: Series, last: number | null, to: number | undefined) =>
    last === null
      ? Effect.succeed(false)
      : sql
          .unsafe<{ more: boolean }>(moreAfter, [
            series.provider,
            series.symbol,
            series.timeframe,
            toTimestamp(last, "-infinity"),
            toTimestamp(to, "infinity")
          ])
          .pipe(Effect.map(([row]) => row?.more === true))

  const storedPage = (format: PageFormat, r: PageRequest) =>
    Effect.gen(function* () {
      const { series } = r
      const chunks = yield* sql.unsafe<Chunk>(renderChunks(format, storedRows), [
        series.provider,
        series.symbol,
        series.timeframe,
        toTimestamp(r.from, "-infinity"),
        toTimestamp(r.to, "infinity"),
        toTimestamp(r.after, "-infinity"),
        r.limit
      ])
      const { parts, count, lastMs } = joinChunks(format, chunks)
      return {
        parts,
        count,
        lastMs,
        more: count === r.limit && (yield* more(series, lastMs, r.to))
      } satisfies Page
    })

  const resampledPage = (format: PageFormat, r: PageRequest, resample: Timeframe.Timeframe) =>
    Effect.gen(function* () {
      const { series } = r
      const empty: Page = { parts: format === "json" ? ["[]"] : [], count: 0, lastMs: null, more: false }
      // The cursor is the open of the last bucket served: continue with the next bucket.
      const lo = Math.max(
        r.from ?? -Infinity,
        r.after === undefined ? -Infinity : r.after + Timeframe.durationMs(resample)
      )
      const key = [series.provider, series.symbol, series.timeframe] as const
      const [first] = yield* sql.unsafe<{ ms: number }>(
        `SELECT (extract(epoch FROM ts) * 1000)::int8 AS ms FROM datahub.historical_data
         WHERE provider = $1 AND symbol = $2 AND timeframe = $3 AND ts >= $4 AND ts < $5 ORDER BY ts LIMIT 1`,
        [
          ...key,
          toTimestamp(Number.isFinite(lo) ? lo : undefined, "-infinity"),
          toTimestamp(r.to, "infinity")
        ]
      )
      if (first === undefined) return empty
      const hi = pageWindow(resample, first.ms, r.limit, r.to)
      const chunks = yield* sql.unsafe<Chunk>(renderChunks(format, resampledRows(yield* bucketFunction)), [
        ...key,
        toTimestamp(first.ms, "-infinity"),
        toTimestamp(hi, "infinity"),
        bucketParam(resample)
      ])
      const { parts, count, lastMs } = joinChunks(format, chunks)
      const hasMore = hi !== r.to && lastMs !== null && (yield* more(series, hi - 1, r.to)) // bars at or after hi
      return { parts, count, lastMs, more: hasMore } satisfies Page
    })

  /** One page of `r`, rendered as `format`. */
  const page = (format: PageFormat, r: PageRequest) =>
    (r.resample === undefined ? storedPage(format, r) : resampledPage(format, r, r.resample)).pipe(
      Effect.withSpan("BarsRepo.page", {
        attributes: { ...r.series, format, limit: r.limit, resample: r.resample, after: r.after }
      })
    )

  /** The newest bar of a series: the forming one from live_data if newer, else the last closed one. */
  const latest = (series: Series) =>
    sql<{
      ts: Date
      open: number
      high: number
      low: number
      close: number
      volume: number
      vwap: number | null
      trades: number | null
    }>`
      SELECT ts, open, high, low, close, volume, vwap, trades FROM (
        (SELECT *, 0 AS preference FROM datahub.historical_data
         WHERE provider = ${series.provider} AND symbol = ${series.symbol} AND timeframe = ${series.timeframe}
         ORDER BY ts DESC LIMIT 1)
        UNION ALL
        (SELECT *, 1 FROM datahub.live_data
         WHERE provider = ${series.provider} AND symbol = ${series.symbol} AND timeframe = ${series.timeframe}
         ORDER BY ts DESC LIMIT 1)) AS newest
      -- A bar present in both is closed: the historical row is final.
      ORDER BY ts DESC, preference LIMIT 1`.pipe(
      Effect.map(([row]) =>
        Option.map(Option.fromNullable(row), (b): BarPoint => ({ ...b, ts: b.ts.toISOString() }))
      ),
      Effect.withSpan("BarsRepo.latest", { attributes: { ...series } })
    )

  /** Whether DataHub's own tables know the provider, and the symbol at that provider (subscriptions or bars). */
  const known = (provider: string, symbol: string) =>
    sql<{ provider: boolean; symbol: boolean }>`
      SELECT EXISTS (SELECT 1 FROM datahub.provider_subscription WHERE provider = ${provider})
          OR EXISTS (SELECT 1 FROM datahub.historical_data WHERE provider = ${provider}) AS provider,
             EXISTS (SELECT 1 FROM datahub.provider_subscription WHERE provider = ${provider} AND symbol = ${symbol})
          OR EXISTS (SELECT 1 FROM datahub.historical_data WHERE provider = ${provider} AND symbol = ${symbol})
          OR EXISTS (SELECT 1 FROM datahub.live_data WHERE provider = ${provider} AND symbol = ${symbol}) AS symbol`.pipe(
      Effect.map(([row]) => ({ provider: row?.provider === true, symbol: row?.symbol === true })),
      Effect.withSpan("BarsRepo.known", { attributes: { provider, symbol } })
    )

  return { page, latest, known } as const
})

export class BarsRepo extends Context.Tag("@quasar/datahub/BarsRepo")<
  BarsRepo,
  Effect.Effect.Success<typeof make>
>() {
  static readonly layer = Layer.effect(BarsRepo, make)
}
