/**
 * The production BacktestExecutor: each run gets a fresh sandbox child (`@quasar/sandbox`) that
 * loads the uploaded strategy (bundled with the SDK inlined, nothing else importable) and runs the
 * engine on the bars sent as columns, in chunks the child acknowledges one at a time, so that
 * neither side holds a whole universe serialized in the IPC channel at once. The child has no network at all (nothing is relayed: a
 * strategy's context offers no fetch or connect), a CPU budget, a heap and a memory cap, and a
 * wall-clock limit for the run; interrupting the run kills it.
 */
import { fileURLToPath } from "node:url"
import { BacktestResult } from "@quasar/domain"
import {
  SandboxLimits,
  type SandboxLimitValues,
  type SandboxLoadError,
  type SandboxSetupError,
  seconds
} from "@quasar/sandbox"
import {
  bundleUpload,
  detectIsolation,
  logIsolation,
  type QuotaOptions,
  SandboxQuota,
  SandboxWorkspace,
  start
} from "@quasar/sandbox/node"
import { Clock, Duration, Effect, Either, Fiber, Layer, Option, Queue, Runtime, Schema } from "effect"
import { BacktestAborted, BacktestExecutor, type BacktestJob } from "../backtest/BacktestExecutor"
import type { Progress } from "../engine/runBacktest"
import type { BarColumns } from "../engine/types"
import { type ChildMessage, decodeChildMessage, type HostMessage } from "./protocol"

export interface SandboxedBacktestOptions {
  /** The longest a run may take once its strategy is loaded; past it the child is killed. */
  readonly timeLimit?: Duration.DurationInput
  /** Bar times between two progress reports. */
  readonly progressEvery?: number
  /** The most bars of one symbol in one message to the child. */
  readonly barsPerMessage?: number
  /** Over Trader's defaults (and the operator's QUASAR_SANDBOX_* settings). */
  readonly limits?: Partial<SandboxLimitValues>
  readonly quota?: QuotaOptions
}

/**
 * A run holds every bar of its universe: more heap and memory than a provider's child, and as
 * long to load as bundling the engine takes.
 */
const TRADER_LIMITS: Partial<SandboxLimitValues> = { heapMb: 256, rssMb: 768 }
const DEFAULT_TIME_LIMIT = Duration.minutes(10)
const DEFAULT_EVERY = 10_000
const DEFAULT_BARS_PER_MESSAGE = 100_000

/** Views, not copies: the channel's serializer copies only each view's range. */
const chunkOf = (columns: BarColumns, from: number, to: number): BarColumns => ({
  ts: columns.ts.subarray(from, to),
  open: columns.open.subarray(from, to),
  high: columns.high.subarray(from, to),
  low: columns.low.subarray(from, to),
  close: columns.close.subarray(from, to),
  volume: columns.volume.subarray(from, to)
})

/** The strategy runner, bundled into each child's directory. */
export const strategyWorkspace = SandboxWorkspace.layer(
  fileURLToPath(new URL("./strategyRunner.ts", import.meta.url))
)

const validResult = Schema.validateEither(BacktestResult)
const liveClock = Clock.make()

const aborted = (reason: "inputs" | "sandbox", message: string) => new BacktestAborted({ reason, message })

const byLevel = {
  debug: Effect.logDebug,
  info: Effect.logInfo,
  warn: Effect.logWarning,
  error: Effect.logError
} as const

const make = (options: SandboxedBacktestOptions) =>
  Effect.gen(function* () {
    const workspace = yield* SandboxWorkspace
    const limits = yield* SandboxLimits
    const quota = yield* SandboxQuota
    const isolation = yield* detectIsolation
    yield* logIsolation(isolation)
    const timeLimit = Duration.decode(options.timeLimit ?? DEFAULT_TIME_LIMIT)
    const every = options.progressEvery ?? DEFAULT_EVERY
    const perMessage = Math.max(1, Math.floor(options.barsPerMessage ?? DEFAULT_BARS_PER_MESSAGE))

    const setupFailed = (e: SandboxSetupError) =>
      aborted("sandbox", `the sandbox could not start: ${e.message}`)
    const loadFailed = (e: SandboxLoadError) =>
      aborted("inputs", `the strategy did not load: ${e.message}. Fix the module and submit the run again.`)

    const launch = (job: BacktestJob, label: string, onProgress: (progress: Progress) => void) =>
      Effect.gen(function* () {
        const bundled = yield* bundleUpload(job.source, job.language, "strategy").pipe(
          Effect.mapError((issues) =>
            aborted(
              "inputs",
              `the strategy does not build: ${issues
                .map((i) => (i.line === undefined ? i.message : `${i.message} (line ${i.line})`))
                .join("; ")}. Fix the module and submit the run again.`
            )
          )
        )
        const directory = yield* workspace.prepare(label, bundled.code).pipe(Effect.mapError(setupFailed))
        const runtime = yield* Effect.runtime<never>()
        const runFork = Runtime.runFork(runtime)
        return yield* start<ChildMessage, HostMessage>({
          label,
          owner: { strategy: label },
          directory,
          isolation,
          heartbeat: false,
          decode: decodeChildMessage,
          onLog: (log, message, fields) =>
            runFork(byLevel[log.level](message).pipe(Effect.annotateLogs({ sandbox: label, ...fields }))),
          // Not a relay: the child gets nothing from outside. Progress is the only message of its own.
          relay: () => ({
            accepts: (message) => message._tag === "Progress",
            handle: (message) => {
              if (message._tag === "Progress") onProgress({ done: message.done, total: message.total })
            },
            cost: () => 0,
            close: () => undefined
          })
        }).pipe(
          Effect.provideService(SandboxLimits, limits),
          Effect.provideService(SandboxQuota, quota),
          Effect.catchTags({
            SandboxSetupError: (e) => Effect.fail(setupFailed(e)),
            SandboxLoadError: (e) => Effect.fail(loadFailed(e))
          })
        )
      })

    const run = (job: BacktestJob, onProgress: (progress: Progress) => Effect.Effect<void>) =>
      Effect.scoped(
        Effect.gen(function* () {
          const label = `backtest ${job.codeSha256.slice(0, 12)}`
          // Progress reports are delivered in order, the latest winning when the caller is slow.
          const reports = yield* Queue.sliding<Progress>(1)
          const reporter = yield* Queue.take(reports).pipe(
            Effect.flatMap(onProgress),
            Effect.forever,
            Effect.forkScoped
          )
          const child = yield* launch(job, label, (p) => void Queue.unsafeOffer(reports, p))
          yield* Effect.annotateCurrentSpan({ strategy: child.loaded.name, version: child.loaded.version })
          const id = child.nextId()
          const stopped = (reason: string) =>
            aborted("sandbox", `the strategy's sandbox stopped: it ${reason}`)
          const killFor = (reason: string) =>
            child.kill(reason).pipe(Effect.zipRight(Effect.fail(stopped(reason))))
          // Each chunk waits for the child's `Taken`: one chunk at a time is serialized and in flight.
          const transfer = Effect.gen(function* () {
            child.send({
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
              lengths: Array.from(job.bars, ([key, columns]) => [key, columns.ts.length] as const),
              every
            })
            for (const [key, columns] of job.bars) {
              for (let offset = 0; offset < columns.ts.length; offset += perMessage) {
                const chunkId = child.nextId()
                const answer = yield* child
                  .exchange(chunkId, {
                    _tag: "Bars",
                    id: chunkId,
                    key,
                    offset,
                    columns: chunkOf(columns, offset, offset + perMessage)
                  })
                  .pipe(Effect.mapError(stopped))
                if (answer._tag === "Refused") return answer
                if (answer._tag !== "Taken")
                  return yield* killFor(`sent a malformed message: answered bars with ${answer._tag}`)
              }
            }
            return yield* child.exchange(id, { _tag: "Start", id }).pipe(Effect.mapError(stopped))
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
          const result = validResult(reply.result)
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

    return { run }
  })

export const SandboxedBacktestExecutor = {
  /** The BacktestExecutor that runs strategies in the sandbox, with its workspace, quota and limits. */
  layer: (options: SandboxedBacktestOptions = {}) =>
    Layer.effect(BacktestExecutor, make(options)).pipe(
      Layer.provide(
        Layer.mergeAll(strategyWorkspace, SandboxQuota.layer(options.quota ?? {})).pipe(
          Layer.provideMerge(SandboxLimits.layer({ ...TRADER_LIMITS, ...options.limits }))
        )
      )
    )
} as const
