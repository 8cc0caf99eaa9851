/**
 * SQL for `trader.backtests` and `trader.backtest_results`. A result's equity columns are stored
 * as raw little-endian float64 bytes (see the migration); everything else as the JSON the
 * domain schemas encode to, decoded back through the same schemas.
 */
import { Buffer } from "node:buffer"
import { SqlClient, type SqlError } from "@effect/sql"
import {
  BacktestDetail,
  type BacktestId,
  BacktestInputs,
  BacktestResult,
  type BacktestRunStatus,
  BacktestSummary
} from "@quasar/domain"
import { Context, Effect, Layer, Option, Schema } from "effect"

const { equity: _equity, ...resultFields } = BacktestResult.fields
/** The result as stored in `result`: all of it but the equity columns. */
export const StoredResult = Schema.Struct(resultFields)

/**
 * The stored part of a validated result, as its encoded form. Each of its fields encodes to
 * itself (numbers, strings, literals, brands: no transformation), so a result that passed
 * `BacktestResult` needs no second walk through the schema, which costs a tenth of a second per
 * ten thousand fills; the compiler checks that the type is its encoded form, and a test that
 * encoding changes nothing.
 */
export const storedForm = ({ equity: _, ...stored }: BacktestResult): typeof StoredResult.Encoded => stored
const decodeDetail = Schema.decodeUnknownSync(BacktestDetail)
const decodeSummary = Schema.decodeUnknownSync(BacktestSummary)
/** Inputs that do not decode (a row written before they were resolved) show as null. */
const storedInputs = (inputs: unknown) =>
  Option.isSome(Schema.decodeUnknownOption(BacktestInputs)(inputs)) ? inputs : null

export interface NewBacktest {
  readonly at: Date
  readonly strategy: string
  readonly version: number
  readonly provider: string
  readonly from: number
  readonly to: number
  readonly params: Readonly<Record<string, unknown>>
  readonly initialCash: number
  /** Encoded (JSON) form of the run's inputs. */
  readonly inputs: typeof BacktestInputs.Encoded
  readonly total: number
}

interface Row {
  readonly id: number
  readonly status: BacktestRunStatus
  readonly strategy: string
  readonly version: number
  readonly provider: string
  readonly from_ts: Date
  readonly to_ts: Date
  readonly params: unknown
  readonly initial_cash: number
  readonly inputs: unknown
  readonly created_at: Date
  readonly started_at: Date | null
  readonly finished_at: Date | null
  readonly progress_done: number
  readonly progress_total: number
  readonly message: string | null
  readonly statistics: unknown
}

interface ResultRow {
  readonly result: Record<string, unknown>
  readonly equity_ts: Uint8Array
  readonly equity: Uint8Array
  readonly benchmark: Uint8Array
}

const iso = (d: Date | null) => (d === null ? null : d.toISOString())

/** The summary's encoded form; `eta` is filled in by the caller that knows the live progress. */
const summaryFields = (r: Row, etaSeconds: number | null) => ({
  id: r.id,
  status: r.status,
  strategy: r.strategy,
  version: r.version,
  provider: r.provider,
  from: r.from_ts.toISOString(),
  to: r.to_ts.toISOString(),
  params: r.params,
  initialCash: r.initial_cash,
  createdAt: r.created_at.toISOString(),
  startedAt: iso(r.started_at),
  finishedAt: iso(r.finished_at),
  progress: { done: r.progress_done, total: r.progress_total, etaSeconds },
  message: r.message,
  statistics: r.statistics ?? null
})

const bytes = (column: Float64Array) => Buffer.from(column.buffer, column.byteOffset, column.byteLength)

/** A copy: the driver's buffer need not be 8-byte aligned, which a Float64Array view requires. */
const column = (stored: Uint8Array): Float64Array<ArrayBuffer> => {
  const copy = new Uint8Array(stored.byteLength)
  copy.set(stored)
  return new Float64Array(copy.buffer)
}

/** What stands for the equity columns while the rest of a stored result is decoded. */
const NO_EQUITY = { ts: [], equity: [], benchmark: [] }

export interface Live {
  readonly done: number
  readonly total: number
  readonly etaSeconds: number | null
}

const make = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const columns = sql`id, status, strategy, version, provider, from_ts, to_ts, params, initial_cash, inputs,
    created_at, started_at, finished_at, progress_done, progress_total, message, statistics`

  const toSummary = (r: Row, live: Option.Option<Live>): BacktestSummary =>
    decodeSummary({
      ...summaryFields(r, Option.match(live, { onNone: () => null, onSome: (l) => l.etaSeconds })),
      ...Option.match(live, {
        onNone: () => ({}),
        onSome: (l) => ({ progress: { done: l.done, total: l.total, etaSeconds: l.etaSeconds } })
      })
    })

  return {
    insert: (b: NewBacktest) =>
      Effect.map(
        sql<{ id: number }>`
          INSERT INTO trader.backtests
            (status, created_at, strategy, version, provider, from_ts, to_ts, params, initial_cash, inputs, progress_total)
          VALUES ('queued', ${b.at}, ${b.strategy}, ${b.version}, ${b.provider}, ${new Date(b.from)}, ${new Date(b.to)},
                  ${JSON.stringify(b.params)}::jsonb, ${b.initialCash}, ${JSON.stringify(b.inputs)}::jsonb, ${b.total})
          RETURNING id`,
        (rows) => rows[0]!.id as BacktestId
      ),

    markRunning: (id: BacktestId, at: Date) =>
      sql`UPDATE trader.backtests SET status = 'running', started_at = ${at}
          WHERE id = ${id} AND status = 'queued'`.pipe(Effect.asVoid),

    saveProgress: (id: BacktestId, done: number, total: number) =>
      sql`UPDATE trader.backtests SET progress_done = ${done}, progress_total = ${total}
          WHERE id = ${id} AND status = 'running'`.pipe(Effect.asVoid),

    /** Ends a run without a result (aborted, cancelled before it ran, interrupted). */
    end: (id: BacktestId, status: "failed" | "cancelled" | "interrupted", message: string, at: Date) =>
      sql`UPDATE trader.backtests SET status = ${status}, message = ${message}, finished_at = ${at}
          WHERE id = ${id} AND status IN ('queued', 'running')`.pipe(Effect.asVoid),

    /**
     * Ends a run with its result, in one transaction. Each equity column goes in a statement of
     * its own: the driver builds a statement's whole message in memory, growing its buffer as it
     * goes, so one statement of a million-bar result's 28 MB costs Trader several times that at
     * once (and takes longer to write) where three of 8 MB or so do not.
     */
    complete: (id: BacktestId, result: BacktestResult, message: string | null, at: Date) => {
      const stored = storedForm(result)
      const empty = Buffer.alloc(0)
      return sql
        .withTransaction(
          Effect.all(
            [
              sql`UPDATE trader.backtests
                SET status = ${result.status}, message = ${message}, finished_at = ${at},
                    progress_done = ${result.progress.done}, progress_total = ${result.progress.total},
                    statistics = ${JSON.stringify(stored.statistics)}::jsonb,
                    inputs = ${JSON.stringify(stored.inputs)}::jsonb
                WHERE id = ${id}`,
              sql`INSERT INTO trader.backtest_results (backtest_id, result, equity_ts, equity, benchmark)
                VALUES (${id}, ${JSON.stringify(stored)}::json, ${bytes(result.equity.ts)}, ${empty}, ${empty})`,
              sql`UPDATE trader.backtest_results SET equity = ${bytes(result.equity.equity)}
                WHERE backtest_id = ${id}`,
              sql`UPDATE trader.backtest_results SET benchmark = ${bytes(result.equity.benchmark)}
                WHERE backtest_id = ${id}`
            ],
            { discard: true }
          )
        )
        .pipe(Effect.asVoid)
    },

    /** Marks every queued or running run interrupted: at start, none of them has a fiber any more. */
    interruptUnfinished: (message: string, at: Date) =>
      Effect.map(
        sql<{
          id: number
        }>`UPDATE trader.backtests SET status = 'interrupted', message = ${message}, finished_at = ${at}
            WHERE status IN ('queued', 'running') RETURNING id`,
        (rows) => rows.length
      ),

    list: (
      filter: { readonly status?: BacktestRunStatus; readonly strategy?: string; readonly limit: number },
      live: (id: BacktestId) => Option.Option<Live>
    ) =>
      Effect.map(
        sql<Row>`SELECT ${columns} FROM trader.backtests
          WHERE ${sql.and([
            ...(filter.status === undefined ? [] : [sql`status = ${filter.status}`]),
            ...(filter.strategy === undefined ? [] : [sql`strategy = ${filter.strategy}`])
          ])}
          ORDER BY created_at DESC, id DESC LIMIT ${filter.limit}`,
        (rows) => rows.map((r) => toSummary(r, live(r.id as BacktestId)))
      ),

    summary: (id: BacktestId, live: Option.Option<Live>) =>
      Effect.map(sql<Row>`SELECT ${columns} FROM trader.backtests WHERE id = ${id}`, (rows) =>
        Option.map(Option.fromNullable(rows[0]), (r) => toSummary(r, live))
      ),

    detail: (id: BacktestId, live: Option.Option<Live>) =>
      Effect.gen(function* () {
        const [row] = yield* sql<Row>`SELECT ${columns} FROM trader.backtests WHERE id = ${id}`
        if (row === undefined) return Option.none<BacktestDetail>()
        const [stored] = yield* sql<ResultRow>`
          SELECT result, equity_ts, equity, benchmark FROM trader.backtest_results WHERE backtest_id = ${id}`
        const summary = toSummary(row, live)
        // The equity columns go into the detail as they are stored: this service wrote them after
        // checking every value (equityCurve.ts), so they skip the walk through the schema, which
        // would turn each into an array of a million numbers and back.
        const detail = decodeDetail({
          ...Schema.encodeSync(BacktestSummary)(summary),
          inputs: storedInputs(row.inputs),
          result: stored === undefined ? null : { ...stored.result, equity: NO_EQUITY }
        })
        return Option.some(
          stored === undefined || detail.result === null
            ? detail
            : {
                ...detail,
                result: {
                  ...detail.result,
                  equity: {
                    ts: column(stored.equity_ts),
                    equity: column(stored.equity),
                    benchmark: column(stored.benchmark)
                  }
                }
              }
        )
      }),

    /** Deletes an ended run: `none` when there is no such run, `false` when it has not ended. */
    remove: (id: BacktestId): Effect.Effect<Option.Option<boolean>, SqlError.SqlError> =>
      Effect.gen(function* () {
        const [row] = yield* sql<{
          status: BacktestRunStatus
        }>`SELECT status FROM trader.backtests WHERE id = ${id}`
        if (row === undefined) return Option.none()
        const deleted = yield* sql`DELETE FROM trader.backtests
          WHERE id = ${id} AND status NOT IN ('queued', 'running') RETURNING id`
        return Option.some(deleted.length > 0)
      })
  }
})

export class BacktestsRepo extends Context.Tag("@quasar/trader/BacktestsRepo")<
  BacktestsRepo,
  Effect.Effect.Success<typeof make>
>() {
  static readonly layer = Layer.effect(BacktestsRepo, make)
}
