/**
 * The production BacktestExecutor: each run gets a fresh sandbox child (`@quasar/sandbox`) that
 * loads the uploaded strategy (bundled with the SDK inlined, nothing else importable) and runs the
 * engine on the bars as they arrive: DataHub's answer for each universe member is appended, as it
 * comes, to a file of the child's directory, and a `Bars` message says how far it has grown (see
 * protocol.ts), so the run goes on while its bars load and Trader holds no more of them than it
 * reads ahead while the child starts. The child has no network at all (nothing is relayed: a
 * strategy's context offers no fetch or connect), a CPU budget, a heap and a memory cap, and a
 * wall-clock limit for the run (its loading included); interrupting the run kills it. A child can
 * be started while the run waits in the queue (`warm`, see WarmChildren.ts).
 */
import { type FileHandle, open } from "node:fs/promises"
import { join } from "node:path"
import { BacktestResult, makeBarColumnsDecoder, schemaGuard } from "@quasar/domain"
import { SandboxLimits, type SandboxLimitValues, seconds } from "@quasar/sandbox"
import { type QuotaOptions, SandboxQuota } from "@quasar/sandbox/node"
import { Clock, Duration, Effect, Either, Fiber, Layer, Option, Queue, Schema, Stream } from "effect"
import {
  BacktestAborted,
  BacktestExecutor,
  type BacktestJob,
  type RunSeries,
  type StrategyCode
} from "../backtest/BacktestExecutor"
import type { Progress } from "../engine/runBacktest"
import { makeEquityCurve } from "./equityCurve"
import type { Equity, HostMessage, Progress as ProgressMessage } from "./protocol"
import { liveClock, type StartFailure, strategySandbox, strategyWorkspace } from "./strategyChild"
import { makeWarmChildren } from "./WarmChildren"

export interface SandboxedBacktestOptions {
  /** The longest a run may take once its strategy is loaded; past it the child is killed. */
  readonly timeLimit?: Duration.DurationInput
  /** Bar times between two progress reports. */
  readonly progressEvery?: number
  /** How long a child started ahead of its run (`warm`) waits for it before it is stopped. */
  readonly warmFor?: Duration.DurationInput
  /** Over Trader's defaults (and the operator's QUASAR_SANDBOX_* settings). */
  readonly limits?: Partial<SandboxLimitValues>
  readonly quota?: QuotaOptions
}

/**
 * A run holds every bar of its universe: more heap and memory than a provider's child, and as
 * long to load as bundling the engine takes.
 */
const TRADER_LIMITS: Partial<SandboxLimitValues> = { heapMb: 256, rssMb: 768, cpuPercent: 100 }
const DEFAULT_TIME_LIMIT = Duration.minutes(10)
const DEFAULT_EVERY = 10_000
const DEFAULT_WARM_FOR = Duration.seconds(30)
/** Children waiting for their runs at most: as many as the run manager runs at a time by default. */
const MAX_WARM = 2

/** Chunks of each member's answer (about 64 KiB each) read ahead while the run's child starts. */
const PREFETCH_CHUNKS = 256

/** Bytes of bars between two `Bars` messages: the child reads and runs about this much at a time. */
const NOTICE_BYTES = 1 << 19

const barsFile = (index: number) => `bars-${index}.qbcs`

/** Writes every byte of `parts` at the end of `file`. */
const appendAll = async (file: FileHandle, parts: ReadonlyArray<Uint8Array>) => {
  let rest = parts
  while (rest.length > 0) {
    let written = (await file.writev(rest as Array<Uint8Array>)).bytesWritten
    const left: Array<Uint8Array> = []
    for (const part of rest) {
      if (written >= part.length) written -= part.length
      else {
        left.push(part.subarray(written))
        written = 0
      }
    }
    rest = left
  }
}

/**
 * Hands member `index`'s bars to the child as DataHub's answer arrives: appended to its file in
 * the child's directory, a `Bars` message after each half MiB or so and a final one once the
 * answer is whole (the feed checks that it is).
 */
const feedSeries = (
  send: (message: HostMessage) => void,
  directory: string,
  run: number,
  index: number,
  series: RunSeries,
  /** Bars handed over: called with each block's count before the child can read it. */
  handed: (bars: number) => void
) =>
  Effect.gen(function* () {
    const counting = makeBarColumnsDecoder({ keep: false })
    const file = yield* Effect.acquireRelease(
      Effect.tryPromise(() => open(join(directory, barsFile(index)), "wx", 0o600)),
      (f) => Effect.promise(() => f.close())
    )
    let size = 0
    let pending: Array<Uint8Array> = []
    let pendingBytes = 0
    let counted = 0
    const flush = (final: boolean) =>
      Effect.tryPromise(() => appendAll(file, pending)).pipe(
        Effect.tap(() => {
          handed(counting.bars() - counted)
          counted = counting.bars()
          size += pendingBytes
          pending = []
          pendingBytes = 0
          send({ _tag: "Bars", id: run, index, size, final })
        })
      )
    yield* Stream.runForEach(series.bars, (chunk) => {
      counting.push(chunk)
      pending.push(chunk)
      pendingBytes += chunk.length
      return pendingBytes >= NOTICE_BYTES ? flush(false) : Effect.void
    })
    yield* flush(true)
  }).pipe(
    Effect.scoped,
    Effect.catchTags({
      UnknownException: (e) =>
        Effect.fail(aborted("sandbox", `the run's bars could not be handed to its sandbox: ${e.message}`)),
      InvalidRequest: (e) =>
        Effect.fail(aborted("bars", `DataHub refused the bars of ${series.key}: ${e.message}`)),
      ServiceUnavailable: (e) =>
        Effect.fail(aborted("bars", `DataHub stopped serving the bars of ${series.key}: ${e.message}`))
    })
  )

/** What a running child reports besides its answer: progress, and its equity curve as it grows. */
type RunReport = ProgressMessage | Equity

/**
 * A result from the child is almost always valid and holds thousands of orders and fills: the
 * compiled guard takes it as it is, and only one it refuses goes through the schema, for its
 * output (unknown properties dropped) or for what is wrong with it.
 */
const isResult = schemaGuard(BacktestResult)
const validSchemaResult = Schema.validateEither(BacktestResult)
const validResult = (u: unknown) => (isResult(u) ? Either.right(u) : validSchemaResult(u))

const aborted = (reason: BacktestAborted["reason"], message: string) =>
  new BacktestAborted({ reason, message })

const make = (options: SandboxedBacktestOptions) =>
  Effect.gen(function* () {
    const sandbox = yield* strategySandbox
    const timeLimit = Duration.decode(options.timeLimit ?? DEFAULT_TIME_LIMIT)
    const every = options.progressEvery ?? DEFAULT_EVERY

    const failedToStart = (e: StartFailure) =>
      e._tag === "Build"
        ? aborted(
            "inputs",
            `the strategy does not build: ${e.message}. Fix the module and submit the run again.`
          )
        : e._tag === "Load"
          ? aborted(
              "inputs",
              `the strategy did not load: ${e.message}. Fix the module and submit the run again.`
            )
          : aborted("sandbox", `the sandbox could not start: ${e.message}`)

    const labelOf = (code: StrategyCode) => `backtest ${code.codeSha256.slice(0, 12)}`

    const launch = (code: StrategyCode, onRun: (message: RunReport) => void) =>
      sandbox
        .startChild({
          label: labelOf(code),
          owner: { strategy: labelOf(code) },
          source: code.source,
          language: code.language,
          heartbeat: false,
          // Not a relay: the child gets nothing from outside. Its own messages are the run's reports.
          relay: () => ({
            accepts: (message) => message._tag === "Progress" || message._tag === "Equity",
            handle: (message) => {
              if (message._tag === "Progress" || message._tag === "Equity") onRun(message)
            },
            cost: () => 0,
            close: () => undefined
          })
        })
        .pipe(Effect.mapError(failedToStart), Effect.withClock(liveClock))

    type Child = Effect.Effect.Success<ReturnType<typeof launch>>
    const warmChildren = yield* makeWarmChildren<Child, BacktestAborted, RunReport>({
      max: MAX_WARM,
      ttl: options.warmFor ?? DEFAULT_WARM_FOR
    })

    const warm = (code: StrategyCode) => warmChildren.warm(code.codeSha256, (onRun) => launch(code, onRun))

    const run = (job: BacktestJob, onProgress: (progress: Progress) => Effect.Effect<void>) =>
      Effect.scoped(
        Effect.gen(function* () {
          // Progress reports are delivered in order, the latest winning when the caller is slow.
          const reports = yield* Queue.sliding<Progress>(1)
          const reporter = yield* Queue.take(reports).pipe(
            Effect.flatMap(onProgress),
            Effect.forever,
            Effect.forkScoped
          )
          let handed = 0
          const curve = makeEquityCurve(
            () => handed,
            job.series.reduce((n, series) => Math.max(n, series.expected), 0)
          )
          const report = (message: RunReport) =>
            message._tag === "Equity"
              ? curve.add(message)
              : void Queue.unsafeOffer(reports, { done: message.done, total: message.total })
          // DataHub's answers start at once, while the child may still be starting: their first
          // chunks wait here, a few MB at most (the answers wait for the run beyond that).
          const series = yield* Effect.forEach(job.series, (member) =>
            Effect.map(Stream.toQueue(member.bars, { capacity: PREFETCH_CHUNKS }), (queue) => ({
              ...member,
              bars: Stream.flattenTake(Stream.fromQueue(queue))
            }))
          )
          const asked = yield* Clock.currentTimeMillis
          const warmed = yield* warmChildren.take(job.codeSha256, report)
          const child = Option.isSome(warmed) ? warmed.value : yield* launch(job, report)
          yield* Effect.logDebug("the run's strategy child is ready").pipe(
            Effect.annotateLogs({
              warmed: Option.isSome(warmed),
              waitedMs: (yield* Clock.currentTimeMillis) - asked
            })
          )
          yield* Effect.annotateCurrentSpan({ strategy: child.loaded.name, version: child.loaded.version })
          const id = child.nextId()
          const stopped = (reason: string) =>
            aborted("sandbox", `the strategy's sandbox stopped: it ${reason}`)
          const killFor = (reason: string) =>
            child.kill(reason).pipe(Effect.zipRight(Effect.fail(stopped(reason))))
          const transfer = Effect.gen(function* () {
            const feeding = yield* Effect.forEach(
              series,
              (series, index) =>
                feedSeries(child.send, child.directory, id, index, series, (bars) => {
                  handed += bars
                }),
              { concurrency: "unbounded", discard: true }
            ).pipe(Effect.forkScoped)
            const answer = child
              .exchange(id, {
                _tag: "Run",
                id,
                inputs: {
                  codeSha256: job.codeSha256,
                  params: job.params,
                  provider: job.provider,
                  from: job.from,
                  to: job.to,
                  initialCash: job.initialCash,
                  fill: { feeBps: job.fill.feeBps, slippageBps: job.fill.slippageBps }
                },
                bars: job.series.map((series, index) => ({
                  key: series.key,
                  expected: series.expected,
                  file: barsFile(index)
                })),
                every
              })
              .pipe(Effect.mapError(stopped))
            // The child answers once every member's bars are in; bars that stop coming end the run.
            return yield* Effect.raceFirst(answer, Effect.zipRight(Fiber.join(feeding), Effect.never))
          })
          const reply = yield* transfer.pipe(
            Effect.timeoutOption(timeLimit),
            Effect.flatMap(
              Option.match({
                onSome: Effect.succeed,
                onNone: () => killFor(`ran longer than its wall-clock limit of ${seconds(timeLimit)}`)
              })
            )
          )
          if (reply._tag === "Refused")
            return yield* aborted(
              "inputs",
              `The backtest cannot start: ${reply.problems.join("; ")}. Fix these inputs and submit it again.`
            )
          if (reply._tag !== "Finished") {
            const reason = `sent a malformed message: answered the run with ${reply._tag}`
            yield* child.kill(reason)
            return yield* stopped(reason)
          }
          const joined = curve.joined()
          if (Either.isLeft(joined)) {
            const reason = `${joined.left}`
            yield* child.kill(reason)
            return yield* stopped(reason)
          }
          const result = validResult(
            typeof reply.result === "object" && reply.result !== null
              ? { ...reply.result, equity: joined.right }
              : reply.result
          )
          if (Either.isLeft(result)) {
            const reason = "sent a result that is not a backtest result"
            yield* child.kill(reason)
            return yield* stopped(reason)
          }
          yield* child.stop("done")
          yield* Fiber.interrupt(reporter)
          yield* onProgress(result.right.progress)
          yield* result.right.failure === undefined
            ? Effect.logInfo("backtest done").pipe(Effect.annotateLogs({ bars: result.right.progress.total }))
            : Effect.logWarning("the strategy failed").pipe(
                Effect.annotateLogs({
                  barIndex: result.right.failure.barIndex,
                  error: result.right.failure.message
                })
              )
          return result.right
        })
      ).pipe(
        // The limits guard a real process: they run on the real clock, also where a test controls time.
        Effect.withClock(liveClock),
        Effect.tapError((e) =>
          Effect.logWarning("backtest aborted").pipe(
            Effect.annotateLogs({ reason: e.reason, error: e.message })
          )
        ),
        Effect.annotateLogs({ codeSha256: job.codeSha256, provider: job.provider }),
        Effect.withSpan("SandboxedBacktestExecutor.run", {
          attributes: { codeSha256: job.codeSha256, provider: job.provider }
        })
      )

    return { warm, run }
  })

export const SandboxedBacktestExecutor = {
  /** The BacktestExecutor that runs strategies in the sandbox, with its workspace, quota and limits. */
  layer: (options: SandboxedBacktestOptions = {}) =>
    Layer.scoped(BacktestExecutor, make(options)).pipe(
      Layer.provide(
        Layer.mergeAll(strategyWorkspace, SandboxQuota.layer(options.quota ?? {})).pipe(
          Layer.provideMerge(SandboxLimits.layer({ ...TRADER_LIMITS, ...options.limits }))
        )
      )
    )
} as const
