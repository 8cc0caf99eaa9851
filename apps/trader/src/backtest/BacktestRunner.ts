/**
 * Trader's run manager. A submitted backtest is planned at once (bad input is the caller's 4xx,
 * nothing queued), stored as `queued`, and run in a fiber of its own, supervised by a FiberMap
 * keyed by run id; a semaphore lets a few run at a time. Progress lives in memory, where every
 * read sees it, and reaches the database at most once a second (so a crash shows how far a run
 * got). Cancel interrupts the fiber, which stops the executor (and its sandbox). At start, runs
 * a previous process left queued or running have no fiber any more and are marked interrupted.
 */
import {
  type BacktestAccepted,
  type BacktestDetail,
  type BacktestId,
  type BacktestRequest,
  type BacktestResult,
  type BacktestRunStatus,
  type BacktestSummary,
  Conflict,
  NotFound,
  ServiceUnavailable
} from "@quasar/domain"
import { orUnavailableOnSql, SchemaState } from "@quasar/server"
import { Cause, Clock, Context, Deferred, Effect, Fiber, FiberMap, Layer, Option, Schedule } from "effect"
import type { Progress } from "../engine/runBacktest"
import { BacktestExecutor } from "./BacktestExecutor"
import { BacktestPlanner, type PlanError, type PlannedBacktest } from "./BacktestPlanner"
import { BacktestsRepo } from "./BacktestsRepo"
import { makeRunStates } from "./RunStates"

export interface RunnerOptions {
  /** Runs at a time; the rest wait, queued. */
  readonly concurrency: number
  /** Queued and running runs this process holds (each with its bars in memory); more are refused. */
  readonly maxUnfinished: number
  /** Least time between two progress writes of one run. */
  readonly progressWriteMs: number
}

export const defaultRunnerOptions: RunnerOptions = {
  concurrency: 2,
  maxUnfinished: 16,
  progressWriteMs: 1_000
}

const INTERRUPTED_AT_START =
  "Trader stopped while this backtest was queued or running; submit it again to run it"
const INTERRUPTED_AT_STOP =
  "Trader shut down while this backtest was queued or running; submit it again to run it"
const CANCELLED = "cancelled on request"

const UNFINISHED: ReadonlySet<BacktestRunStatus> = new Set(["queued", "running"])

const endMessage = (result: BacktestResult): string | null =>
  result.failure !== undefined
    ? `the strategy failed at bar ${result.failure.barIndex} (${new Date(result.failure.ts).toISOString()}): ${result.failure.message}`
    : result.status === "cancelled"
      ? CANCELLED
      : null

const make = (options: RunnerOptions) =>
  Effect.gen(function* () {
    const repo = yield* BacktestsRepo
    const planner = yield* BacktestPlanner
    const executor = yield* BacktestExecutor
    const schema = yield* SchemaState.SchemaState
    const fibers = yield* FiberMap.make<BacktestId>()
    const slots = yield* Effect.makeSemaphore(options.concurrency)
    const states = yield* makeRunStates
    const recovered = yield* Deferred.make<void>()
    const now = Clock.currentTimeMillis

    yield* schema.ready.pipe(
      Effect.zipRight(
        Effect.flatMap(now, (t) => repo.interruptUnfinished(INTERRUPTED_AT_START, new Date(t)))
      ),
      Effect.tap((count) =>
        count > 0
          ? Effect.logWarning("backtests left unfinished by a previous process marked interrupted").pipe(
              Effect.annotateLogs({ count })
            )
          : Effect.void
      ),
      Effect.tapError((e) =>
        Effect.logWarning("could not mark unfinished backtests yet; retrying", { error: e })
      ),
      Effect.retry(Schedule.spaced("2 seconds")),
      Effect.zipRight(Deferred.succeed(recovered, undefined)),
      Effect.forkScoped
    )

    const snapshot = Effect.flatMap(now, states.snapshot)

    const onProgress = (id: BacktestId) => (progress: Progress) =>
      Effect.flatMap(now, (t) => states.progress(id, progress, t, options.progressWriteMs)).pipe(
        Effect.flatMap((due) =>
          due ? repo.saveProgress(id, progress.done, progress.total).pipe(Effect.ignore) : Effect.void
        )
      )

    const endWithout = (id: BacktestId, status: "failed" | "cancelled" | "interrupted", message: string) =>
      Effect.flatMap(now, (t) => repo.end(id, status, message, new Date(t))).pipe(
        Effect.tapError((e) => Effect.logError("could not record the end of a backtest", { error: e })),
        Effect.ignore
      )

    const execute = (id: BacktestId, planned: PlannedBacktest) =>
      Effect.gen(function* () {
        const startedAt = yield* now
        yield* states.update(id, (s) => ({ ...s, startedAt, savedAt: startedAt }))
        yield* repo.markRunning(id, new Date(startedAt))
        yield* Effect.logInfo("backtest started")
        const result = yield* executor.run(planned.job, onProgress(id))
        yield* repo.complete(id, result, endMessage(result), new Date(yield* now))
        yield* Effect.logInfo("backtest ended").pipe(
          Effect.annotateLogs({ status: result.status, bars: result.progress.done })
        )
      }).pipe(
        slots.withPermits(1),
        Effect.catchTag("BacktestAborted", (e) =>
          Effect.zipRight(
            Effect.logWarning("backtest aborted", { reason: e.reason, error: e.message }),
            endWithout(id, "failed", e.message)
          )
        ),
        Effect.onInterrupt(() =>
          Effect.flatMap(states.get(id), (state) =>
            Option.exists(state, (s) => s.cancelling)
              ? endWithout(id, "cancelled", CANCELLED)
              : endWithout(id, "interrupted", INTERRUPTED_AT_STOP)
          )
        ),
        Effect.catchAllCause((cause) =>
          Cause.isInterruptedOnly(cause)
            ? Effect.void
            : Effect.zipRight(
                Effect.logError("backtest could not finish", cause),
                endWithout(
                  id,
                  "failed",
                  `Trader could not finish this backtest: ${Cause.squash(cause)}; submit it again`
                )
              )
        ),
        Effect.ensuring(states.remove(id)),
        Effect.annotateLogs({ backtest: id, strategy: planned.strategy, version: planned.version }),
        Effect.withSpan("Backtest.execute", { attributes: { backtest: id } })
      )

    const submit = (request: BacktestRequest): Effect.Effect<BacktestAccepted, PlanError | Conflict> =>
      Effect.gen(function* () {
        yield* Deferred.await(recovered).pipe(
          Effect.timeoutFail({
            duration: "10 seconds",
            onTimeout: () =>
              new ServiceUnavailable({
                message: "Trader's database is not ready yet (see GET /health); retry in a moment"
              })
          })
        )
        if ((yield* states.size) >= options.maxUnfinished)
          return yield* new Conflict({
            message: `${options.maxUnfinished} backtests are already queued or running; wait for one to end (or cancel one) and submit again`
          })
        const planned = yield* planner.plan(request)
        const t = yield* now
        const id = yield* repo.insert({
          at: new Date(t),
          strategy: planned.strategy,
          version: planned.version,
          provider: request.provider,
          from: planned.inputs.from,
          to: planned.inputs.to,
          params: request.params,
          initialCash: request.initialCash,
          inputs: planned.inputs,
          total: planned.total
        })
        yield* states.add(id, {
          done: 0,
          total: planned.total,
          startedAt: null,
          savedAt: t,
          cancelling: false
        })
        yield* FiberMap.run(fibers, id, execute(id, planned))
        yield* Effect.logInfo("backtest queued").pipe(Effect.annotateLogs({ backtest: id }))
        return { id, status: "queued" as const }
      }).pipe(
        orUnavailableOnSql((e) => `Trader's database failed (${e.message}); retry in a moment`),
        Effect.withSpan("BacktestRunner.submit")
      )

    const summary = (id: BacktestId) =>
      Effect.flatMap(snapshot, (live) => repo.summary(id, live(id))).pipe(
        Effect.flatMap(
          Option.match({
            onNone: () => Effect.fail(notFound(id)),
            onSome: Effect.succeed
          })
        )
      )

    const cancel = (id: BacktestId): Effect.Effect<BacktestSummary, NotFound | Conflict, never> =>
      Effect.gen(function* () {
        if (Option.isSome(yield* states.get(id))) {
          yield* states.update(id, (s) => ({ ...s, cancelling: true }))
          const fiber = yield* FiberMap.get(fibers, id).pipe(Effect.option)
          if (Option.isSome(fiber)) yield* Fiber.interrupt(fiber.value)
          return yield* summary(id)
        }
        const current = yield* summary(id)
        if (!UNFINISHED.has(current.status))
          return yield* new Conflict({
            message: `backtest ${id} has already ended (${current.status}); there is nothing to cancel`
          })
        // Queued or running in the database but not in this process: its process is gone.
        yield* endWithout(id, "cancelled", CANCELLED)
        return yield* summary(id)
      }).pipe(Effect.catchTag("SqlError", Effect.die))

    const remove = (id: BacktestId): Effect.Effect<void, NotFound | Conflict> =>
      Effect.gen(function* () {
        if (Option.isSome(yield* states.get(id))) return yield* stillRunning(id)
        const removed = yield* repo.remove(id)
        if (Option.isNone(removed)) return yield* notFound(id)
        if (!removed.value) return yield* stillRunning(id)
      }).pipe(Effect.catchTag("SqlError", Effect.die))

    const list = (filter: {
      readonly status?: BacktestRunStatus | undefined
      readonly strategy?: string | undefined
      readonly limit?: number | undefined
    }): Effect.Effect<ReadonlyArray<BacktestSummary>> =>
      Effect.flatMap(snapshot, (live) =>
        repo.list(
          {
            ...(filter.status === undefined ? {} : { status: filter.status }),
            ...(filter.strategy === undefined ? {} : { strategy: filter.strategy }),
            limit: filter.limit ?? 100
          },
          live
        )
      ).pipe(Effect.orDie)

    const get = (id: BacktestId): Effect.Effect<BacktestDetail, NotFound> =>
      Effect.flatMap(snapshot, (live) => repo.detail(id, live(id))).pipe(
        Effect.catchTag("SqlError", Effect.die),
        Effect.flatMap(Option.match({ onNone: () => Effect.fail(notFound(id)), onSome: Effect.succeed }))
      )

    /** Waits until run `id` of this process has ended (at once when it is not running here). */
    const settled = (id: BacktestId) =>
      FiberMap.get(fibers, id).pipe(
        Effect.flatMap(Fiber.await),
        Effect.catchTag("NoSuchElementException", () => Effect.void),
        Effect.asVoid
      )

    return { submit, list, get, cancel, remove, settled, recovered: Deferred.await(recovered) }
  })

const notFound = (id: BacktestId) =>
  new NotFound({ message: `there is no backtest ${id}; GET /backtests lists them` })

const stillRunning = (id: BacktestId) =>
  new Conflict({
    message: `backtest ${id} is queued or running; cancel it first (POST /backtests/${id}/cancel)`
  })

export class BacktestRunner extends Context.Tag("@quasar/trader/BacktestRunner")<
  BacktestRunner,
  Effect.Effect.Success<ReturnType<typeof make>>
>() {
  static readonly layer = (options: RunnerOptions = defaultRunnerOptions) =>
    Layer.scoped(BacktestRunner, make(options))
}
