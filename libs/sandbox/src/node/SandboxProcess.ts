/**
 * One sandbox child as Effects, whatever code it runs. The child is Node itself under the
 * permission model, without network access, in its own network and PID namespaces where Linux
 * allows (SandboxIsolation.ts), in its CPU and memory limits (SandboxQuota.ts), with a heap cap
 * and nothing of the host's environment. It runs the app's runner (`runner.mjs`) on the bundled
 * upload (`module.mjs`, see SandboxWorkspace.ts); the app's protocol says what they exchange, and
 * anything the host does for the child (DataHub's egress relay) is the app's `relay`.
 * A caller that stops waiting sends `Cancel`, and a child too busy to acknowledge it (or a ping)
 * within the grace period is killed. Closing the scope kills the child.
 */
import { spawn } from "node:child_process"
import { randomUUID } from "node:crypto"
import { join } from "node:path"
import { Clock, Deferred, type Duration, Effect, type Either, Option, Runtime, type Scope } from "effect"
import type { ChildInit } from "../childInit"
import { SandboxLoadError, type SandboxSetupError } from "../errors"
import type { ChildMessageBase, ControlMessage, LoadedOf, Log, ReplyOf } from "../protocol"
import { SandboxLimits, type SandboxLimitValues } from "../SandboxLimits"
import { openChannel, type Relay } from "./childChannel"
import { boundedFields, residentBytes, sandboxedPid } from "./childWatch"
import { neutral } from "./neutral"
import type { SandboxIsolation } from "./SandboxIsolation"
import { initial, type SandboxProcessEvent, type SandboxProcessOutput, step } from "./SandboxProcessState"
import { cpuTicks, descendants, SandboxQuota, TICKS_PER_SECOND } from "./SandboxQuota"
import { MODULE_FILE, RUNNER_FILE } from "./SandboxWorkspace"

export interface SandboxOptions<M extends ChildMessageBase, H extends object> {
  /** Says which sandbox in logs and reasons ("kraken v3", "validation of kraken", "backtest 12"). */
  readonly label: string
  /** Log annotations naming whose code runs (`{ provider: "kraken" }`). */
  readonly owner: Readonly<Record<string, string>>
  /** Holds the runner and the bundled module (see SandboxWorkspace); the child reads only this. */
  readonly directory: string
  readonly isolation: SandboxIsolation
  /** Ping the child while it lives (long-running sandboxes), killing it if it stops answering. */
  readonly heartbeat: boolean
  /** The app's schema for child messages: verdict, log lines, replies (and the relay's messages). */
  readonly decode: (raw: unknown) => Either.Either<M, unknown>
  /** A line the child logged, its message and fields already bounded. */
  readonly onLog: (log: Log, message: string, fields: Readonly<Record<string, unknown>> | undefined) => void
  readonly relay?: ((send: (message: H) => void) => Relay<M>) | undefined
}

export interface SandboxChild<M extends ChildMessageBase, H extends object> {
  /** The process the host started (`unshare` when namespaced): killing it ends the sandbox. */
  readonly pid: number
  /** The runner's verdict (untrusted beyond its token: decode what it says before use). */
  readonly loaded: LoadedOf<M>
  /** A fresh call id. */
  readonly nextId: () => number
  readonly send: (message: H | ControlMessage) => void
  /** Sends `message` and waits for the reply to `id` (fails with the reason the child died). */
  readonly exchange: (id: number, message: H | ControlMessage) => Effect.Effect<ReplyOf<M>, string>
  /** True when the child answers a ping within `within`: its event loop is not blocked. */
  readonly responsive: (within: Duration.DurationInput) => Effect.Effect<boolean>
  /** Sends `Cancel` for call `id`; a child that does not acknowledge it within the grace is killed. */
  readonly cancel: (id: number, what: string) => Effect.Effect<void>
  /** Why the child is gone, or undefined while it runs. */
  readonly gone: () => string | undefined
  /** Waits until the child is gone; gives the reason. */
  readonly exited: Effect.Effect<string>
  /** Kills the child for misbehaving (logged as a warning); the first reason given is the one reported. */
  readonly kill: (reason: string) => Effect.Effect<void>
  /** Stops the child deliberately (idle, retired, done): its end is not logged as a warning. */
  readonly stop: (reason: string) => Effect.Effect<void>
}

const nodeFlags = (directory: string, limits: SandboxLimitValues) => [
  // Node's permission model: reads outside the directory, any write, child_process,
  // worker_threads and native addons throw ERR_ACCESS_DENIED (or ERR_DLOPEN_DISABLED).
  "--permission",
  `--allow-fs-read=${directory}`,
  // No --allow-net: the child's own sockets are refused.
  `--max-old-space-size=${limits.heapMb}`,
  // The young generation is outside the old-space cap; kept small so the heap stays near it.
  `--max-semi-space-size=${Math.max(1, Math.round(limits.heapMb / 12))}`,
  "--disable-warning=ExperimentalWarning",
  // Fewer full collections below the cap, as the services run (runService.ts): a backtest's
  // child streams its bars and equity through a heap that keeps little.
  "--heap-growing-percent=100",
  // Stack traces point into the upload (bundle.ts inlines the map), so a throw names its line.
  "--enable-source-maps",
  join(directory, RUNNER_FILE),
  join(directory, MODULE_FILE)
]

const liveClock = Clock.make()
/** The most characters of one log message of the child that reach the host's log. */
const MAX_LOG_MESSAGE = 4096

export const start = <M extends ChildMessageBase, H extends object>(
  options: SandboxOptions<M, H>
): Effect.Effect<
  SandboxChild<M, H>,
  SandboxLoadError | SandboxSetupError,
  Scope.Scope | SandboxLimits | SandboxQuota
> =>
  Effect.gen(function* () {
    const limits = yield* SandboxLimits
    const quota = yield* SandboxQuota
    const { label, owner, isolation } = options
    const annotations = { ...owner, sandbox: label }
    yield* quota.admit(label, owner)
    const placement = yield* quota.place(label)
    let state = initial({ limits, ticksPerSecond: TICKS_PER_SECOND })
    /** Steps the reducer; the outputs that only touch the child are performed here. */
    let perform: (output: SandboxProcessOutput) => void = () => undefined
    const dispatch = (event: SandboxProcessEvent): ReadonlyArray<SandboxProcessOutput> => {
      const next = step(state, event)
      state = next.state
      for (const output of next.outputs) perform(output)
      return next.outputs
    }
    const runtime = yield* neutral(Effect.runtime<never>())
    const runFork = Runtime.runFork(runtime)
    const channel = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const token = randomUUID()
        const [wrapper, ...wrapperArgs] = isolation.wrapper
        const node = nodeFlags(options.directory, limits)
        // unshare passes the IPC descriptor (NODE_CHANNEL_FD) through to node unchanged.
        const [command, args] = wrapper
          ? [wrapper, [...wrapperArgs, process.execPath, ...node]]
          : [process.execPath, node]
        const child = spawn(command, args, {
          cwd: options.directory,
          // Nothing of the host's environment (DATABASE_URL, QUASAR_SECRET_KEY…) reaches the child.
          env: {},
          stdio: ["ignore", "pipe", "pipe", "ipc"],
          serialization: "advanced",
          // Its own process group: a terminal's Ctrl-C reaches the host, which stops its children
          // deliberately, instead of killing them behind its back (read as crashes).
          detached: true
        })
        const channel = openChannel<M, H>(child, token, limits, {
          decode: options.decode,
          onLog: (log) =>
            options.onLog(log, log.message.slice(0, MAX_LOG_MESSAGE), boundedFields(log.fields)),
          onOutput: (stream, text) =>
            runFork(Effect.logDebug(`sandbox ${stream}`).pipe(Effect.annotateLogs({ ...annotations, text }))),
          relay: options.relay
        })
        perform = (output) => {
          switch (output._tag) {
            case "Kill":
              return channel.kill(output.reason)
            case "SendInit": {
              const init: ChildInit = { _tag: "Init", token }
              return child.send(init, () => undefined)
            }
            case "CheckMemory":
              return void dispatch({ _tag: "MemoryChecked", outOfMemory: placement.outOfMemory() })
          }
        }
        // The token goes out once the child is in its limits: the runner imports nothing before.
        child.once("spawn", () => {
          let pids: ReadonlyArray<number>
          try {
            pids = placement.enter(child.pid ?? -1)
          } catch (e) {
            return void dispatch({
              _tag: "PlacementFailed",
              message: e instanceof Error ? e.message : String(e)
            })
          }
          dispatch({ _tag: "Placed", pids })
        })
        // "exit" comes before the channel's "close": the reason is in place when it reports. Under
        // `unshare` a node killed by the kernel can show as unshare exiting with code 1, not a signal.
        child.once("exit", (code, signal) => {
          dispatch({ _tag: "Exited", code, signal, wrapped: wrapper !== undefined })
        })
        return { child, channel }
      }),
      ({ channel }) =>
        Effect.sync(() => {
          dispatch({ _tag: "StopAsked", reason: "stopped" })
        }).pipe(Effect.zipRight(Deferred.await(channel.exited).pipe(Effect.timeoutOption("3 seconds"))))
    ).pipe(Effect.map(({ child, channel }) => ({ ...channel, pid: child.pid ?? -1 })))

    // Without a cgroup limit, sampling is all that bounds memory outside the V8 heap: often.
    const memoryEvery = quota.memory === "sampling" ? "100 millis" : "500 millis"
    yield* Effect.gen(function* () {
      // Under unshare the memory to watch is node's, one process below the one the host started.
      let node: number | undefined = isolation.wrapper.length === 0 ? channel.pid : undefined
      while (channel.gone() === undefined) {
        node ??= yield* Effect.promise(() => sandboxedPid(channel.pid))
        if (node === undefined) {
          yield* Effect.sleep("50 millis")
          continue
        }
        const target = node
        const rss = yield* Effect.promise(() => residentBytes(target))
        // A kill or a child gone ends the watch.
        if (dispatch({ _tag: "MemorySampled", rss }).length > 0) return
        yield* Effect.sleep(memoryEvery)
      }
    }).pipe(Effect.forkScoped)

    if (quota.cpu === "sampling")
      yield* Effect.gen(function* () {
        // Loaded, the child can start no process: its tree (a launcher's child included) is final.
        yield* Deferred.await(channel.loaded).pipe(Effect.ignore)
        dispatch({ _tag: "TreeFinal", pids: [channel.pid, ...descendants(channel.pid)] })
        while (channel.gone() === undefined) {
          yield* Effect.sleep("500 millis")
          const now = yield* Clock.currentTimeMillis
          if (dispatch({ _tag: "CpuSampled", now, ticks: cpuTicks(state.pids) }).length > 0) return
        }
      }).pipe(Effect.forkScoped)

    // Every end that the host did not ask for is logged with its reason (denials included).
    yield* Deferred.await(channel.exited).pipe(
      Effect.flatMap((reason) =>
        Effect.forEach(dispatch({ _tag: "Ended", reason }), (output) =>
          output._tag === "WarnEnded"
            ? Effect.logWarning("sandbox child ended").pipe(
                Effect.annotateLogs({ ...annotations, reason: output.reason })
              )
            : Effect.void
        )
      ),
      Effect.forkScoped
    )

    const loaded = yield* Deferred.await(channel.loaded).pipe(
      Effect.timeoutOption(limits.loadTimeout),
      Effect.flatMap(
        Option.match({
          onSome: Effect.succeed,
          onNone: () => {
            const failed = dispatch({ _tag: "LoadTimedOut" }).find((o) => o._tag === "FailLoad")
            return Effect.fail(new SandboxLoadError({ problems: failed ? [...failed.problems] : [] }))
          }
        })
      ),
      Effect.withSpan("sandbox.load", { attributes: { ...annotations, pid: channel.pid } })
    )

    const takeId = () => {
      const id = state.nextId
      dispatch({ _tag: "IdTaken" })
      return id
    }

    const responsive = (within: Duration.DurationInput) =>
      Effect.suspend(() => {
        const id = takeId()
        return channel.exchange(id, { _tag: "Ping", id }).pipe(
          Effect.timeoutOption(within),
          Effect.map(Option.isSome),
          Effect.orElseSucceed(() => false)
        )
      })

    const cancel = (id: number, what: string) =>
      Effect.suspend(() =>
        channel.gone() !== undefined
          ? Effect.void
          : channel.exchange(id, { _tag: "Cancel", id }).pipe(
              Effect.timeoutOption(limits.cancelGrace),
              Effect.flatMap((acked) =>
                Effect.sync(() => {
                  if (Option.isNone(acked)) dispatch({ _tag: "CancelUnacknowledged", what })
                })
              ),
              Effect.ignore
            )
      )

    if (options.heartbeat)
      yield* Effect.gen(function* () {
        while (channel.gone() === undefined) {
          yield* Effect.sleep(limits.heartbeat)
          if (!(yield* responsive(limits.heartbeat))) return dispatch({ _tag: "HeartbeatMissed" })
        }
      }).pipe(Effect.forkScoped)

    return {
      pid: channel.pid,
      loaded,
      nextId: takeId,
      send: channel.send,
      exchange: channel.exchange,
      responsive,
      cancel,
      gone: channel.gone,
      exited: Deferred.await(channel.exited),
      kill: (reason: string) => Effect.sync(() => void dispatch({ _tag: "KillAsked", reason })),
      stop: (reason: string) => Effect.sync(() => void dispatch({ _tag: "StopAsked", reason }))
    } satisfies SandboxChild<M, H>
  }).pipe(
    // A child's limits (load time, memory and CPU sampling) are real time: they keep to the real
    // clock also where a test controls time.
    Effect.withClock(liveClock),
    Effect.annotateLogs({ sandbox: options.label })
  )
