/**
 * One sandbox child as Effects. The child is Node itself under the permission model, without
 * network access, in its own network and PID namespaces where Linux allows (SandboxIsolation.ts),
 * with a heap cap and nothing of DataHub's environment; its `ctx.fetch` and `ctx.connect` are
 * made by DataHub under the egress policy (egress/); every call has a timeout, a span and annotated
 * logs; a caller that stops waiting sends `Cancel`, and a child too busy to acknowledge it (or a
 * ping) within the grace period is killed. Closing the scope kills the child.
 */
import { spawn } from "node:child_process"
import { randomUUID } from "node:crypto"
import { join } from "node:path"
import { type ProviderError, ProviderRetryableError } from "@quasar/domain"
import { Chunk, Clock, Deferred, Duration, Effect, Option, Runtime, type Scope, Stream } from "effect"
import { makeCallContexts, neutral } from "./callContexts"
import { openChannel } from "./childChannel"
import type { ChildInit } from "./childInit"
import { boundedFields, residentBytes, sandboxedPid } from "./childWatch"
import { shownUrl } from "./egress/Egress"
import { makeFetchRelay } from "./egress/relayFetch"
import { makeSocketRelay } from "./egress/relaySocket"
import { SandboxLoadError, type SandboxSetupError } from "./errors"
import { unpackEvents, unpackPage } from "./packedBars"
import type { CallSettings, Capability, Reply, StreamMethod, ThrownError } from "./protocol"
import { failFromProvider, providerLogger } from "./providerHost"
import { SandboxLimits, type SandboxLimitValues, seconds } from "./SandboxLimits"
import { SandboxNetwork } from "./SandboxNetwork"
import { cpuTicks, descendants, SandboxQuota, TICKS_PER_SECOND } from "./SandboxQuota"
import { MODULE_FILE, RUNNER_FILE } from "./SandboxWorkspace"

export interface SandboxOptions {
  /** The provider name errors and logs carry. */
  readonly provider: string
  /** Says which sandbox in logs and reasons ("kraken v3", "validation of kraken"). */
  readonly label: string
  /** Holds the runner and the bundled module (see SandboxWorkspace); the child reads only this. */
  readonly directory: string
  /** Ping the child while it lives (long-running sandboxes), killing it if it stops answering. */
  readonly heartbeat: boolean
}

export interface Sandbox {
  /** The process DataHub started (`unshare` when namespaced): killing it ends the sandbox. */
  readonly pid: number
  /** The export's data fields as the child described them (untrusted: decode before use). */
  readonly manifest: unknown
  readonly functions: ReadonlyArray<Capability>
  readonly listAssets: (settings: CallSettings) => Effect.Effect<unknown, ProviderError>
  /** A pull-based stream of the raw items the provider yields. */
  readonly stream: (
    method: StreamMethod,
    settings: CallSettings,
    request: unknown
  ) => Stream.Stream<unknown, ProviderError>
  /** Waits until the child is gone; gives the reason. */
  readonly exited: Effect.Effect<string>
  readonly kill: (reason: string) => Effect.Effect<void>
}

const nodeFlags = (directory: string, limits: SandboxLimitValues) => [
  // Node's permission model: reads outside the directory, any write, child_process,
  // worker_threads and native addons throw ERR_ACCESS_DENIED (or ERR_DLOPEN_DISABLED).
  "--permission",
  `--allow-fs-read=${directory}`,
  // No --allow-net: the child's own sockets are refused; DataHub relays ctx.fetch/ctx.connect.
  `--max-old-space-size=${limits.heapMb}`,
  // The young generation is outside the old-space cap; kept small so the heap stays near it.
  `--max-semi-space-size=${Math.max(1, Math.round(limits.heapMb / 12))}`,
  "--disable-warning=ExperimentalWarning",
  // Stack traces point into the upload (bundle.ts inlines the map), so a throw names its line.
  "--enable-source-maps",
  join(directory, RUNNER_FILE),
  join(directory, MODULE_FILE)
]

/** An error the provider threw, rebuilt so the host's classifier can read its `name`. */
const revive = (thrown: ThrownError): Error => {
  const error = thrown.name === "TypeError" ? new TypeError(thrown.message) : new Error(thrown.message)
  Object.defineProperty(error, "name", { value: thrown.name })
  if (thrown.retryAfterMs !== undefined) Object.assign(error, { retryAfterMs: thrown.retryAfterMs })
  return error
}

const MB = 1024 * 1024
/** The most characters of one provider log message that reach DataHub's log. */
const MAX_LOG_MESSAGE = 4096
/** The shortest time between two pulls of a live stream (see `stream`). */
const LIVE_PULL_EVERY_MS = 25

export const start = (
  options: SandboxOptions
): Effect.Effect<
  Sandbox,
  SandboxLoadError | SandboxSetupError,
  Scope.Scope | SandboxLimits | SandboxNetwork | SandboxQuota
> =>
  Effect.gen(function* () {
    const limits = yield* SandboxLimits
    const quota = yield* SandboxQuota
    const { isolation, egress } = yield* SandboxNetwork
    const { provider, label } = options
    yield* quota.admit(provider, label)
    const placement = yield* quota.place(label)
    /** The child's processes once placed (see Placement.enter). */
    let pids: ReadonlyArray<number> = []
    /** DataHub itself stopped the child (idle, retired, done): not worth a warning. */
    let asked = false
    const runtime = yield* neutral(Effect.runtime<never>())
    const logger = yield* neutral(providerLogger(provider, { sandbox: label }))
    const runFork = Runtime.runFork(runtime)
    const calls = makeCallContexts(runtime)
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
          // Nothing of DataHub's environment (DATABASE_URL, QUASAR_SECRET_KEY…) reaches provider code.
          env: {},
          stdio: ["ignore", "pipe", "pipe", "ipc"],
          serialization: "advanced",
          // Its own process group: a terminal's Ctrl-C reaches DataHub, which stops its children
          // deliberately, instead of killing them behind its back (read as crashes).
          detached: true
        })
        const channel = openChannel(
          child,
          token,
          limits,
          (log) => {
            const message = log.message.slice(0, MAX_LOG_MESSAGE)
            const fields = boundedFields(log.fields)
            if (!calls.log(log, message, { provider, sandbox: label, ...(fields ? { fields } : {}) }))
              logger[log.level](message, fields)
          },
          (stream, text) =>
            runFork(
              Effect.logDebug(`sandbox ${stream}`).pipe(
                Effect.annotateLogs({ provider, sandbox: label, text })
              )
            ),
          (send) => {
            const relay = {
              egress,
              send,
              denied: (url: string, reason: string) =>
                runFork(
                  Effect.logWarning("sandbox egress denied").pipe(
                    Effect.annotateLogs({ provider, sandbox: label, url: shownUrl(url), reason })
                  )
                )
            }
            const fetch = makeFetchRelay(relay)
            const socket = makeSocketRelay(relay)
            return {
              handle: (message) => {
                fetch.handle(message)
                socket.handle(message)
              },
              close: () => {
                fetch.close()
                socket.close()
              }
            }
          }
        )
        // The token goes out once the child is in its limits: the runner imports nothing before.
        child.once("spawn", () => {
          try {
            pids = placement.enter(child.pid ?? -1)
          } catch (e) {
            return channel.kill(
              `could not be placed in its resource limits (${e instanceof Error ? e.message : String(e)})`
            )
          }
          const init: ChildInit = { _tag: "Init", token }
          child.send(init, () => undefined)
        })
        // "exit" comes before the channel's "close": the reason is in place when it reports.
        child.once("exit", (_code, signal) => {
          if (signal === "SIGKILL" && placement.outOfMemory())
            channel.kill(`used more than ${limits.rssMb} MB of memory`)
        })
        return { child, channel }
      }),
      ({ channel }) =>
        Effect.sync(() => {
          asked = true
          channel.kill("stopped")
        }).pipe(Effect.zipRight(Deferred.await(channel.exited).pipe(Effect.timeoutOption("3 seconds"))))
    ).pipe(Effect.map(({ child, channel }) => ({ ...channel, pid: child.pid ?? -1 })))

    // Without a cgroup limit, sampling is all that bounds memory outside the V8 heap: often.
    const memoryEvery = quota.memory === "sampling" ? "100 millis" : "500 millis"
    yield* Effect.gen(function* () {
      // Under unshare the memory to watch is node's, one process below the one DataHub started.
      let node: number | undefined = isolation.wrapper.length === 0 ? channel.pid : undefined
      while (channel.gone() === undefined) {
        node ??= yield* Effect.promise(() => sandboxedPid(channel.pid))
        if (node === undefined) {
          yield* Effect.sleep("50 millis")
          continue
        }
        const target = node
        const rss = yield* Effect.promise(() => residentBytes(target))
        if (rss === undefined) return
        if (rss > limits.rssMb * MB) return channel.kill(`used more than ${limits.rssMb} MB of memory`)
        yield* Effect.sleep(memoryEvery)
      }
    }).pipe(Effect.forkScoped)

    if (quota.cpu === "sampling")
      yield* Effect.gen(function* () {
        // Loaded, the child can start no process: its tree (a launcher's child included) is final.
        yield* Deferred.await(channel.loaded).pipe(Effect.ignore)
        pids = [channel.pid, ...descendants(channel.pid)]
        const windowMs = Duration.toMillis(limits.cpuWindow)
        const samples: Array<{ readonly at: number; readonly ticks: number }> = []
        while (channel.gone() === undefined) {
          yield* Effect.sleep("500 millis")
          const at = yield* Clock.currentTimeMillis
          samples.push({ at, ticks: cpuTicks(pids) })
          while (samples.length > 2 && (samples[1]?.at ?? at) <= at - windowMs) samples.shift()
          const first = samples[0]
          if (!first || at - first.at < windowMs) continue
          const used =
            ((samples.at(-1)?.ticks ?? 0) - first.ticks) / TICKS_PER_SECOND / ((at - first.at) / 1000)
          if (used * 100 > limits.cpuPercent)
            return channel.kill(
              `used ${Math.round(used * 100)}% of a CPU core for ${seconds(limits.cpuWindow)}; the budget is ${limits.cpuPercent}% (QUASAR_SANDBOX_CPU_PERCENT)`
            )
        }
      }).pipe(Effect.forkScoped)

    // Every end that DataHub did not ask for is logged with its reason (denials included).
    yield* Deferred.await(channel.exited).pipe(
      Effect.flatMap((reason) =>
        asked || reason === "stopped after failing to load"
          ? Effect.void
          : Effect.logWarning("sandbox child ended").pipe(
              Effect.annotateLogs({ provider, sandbox: label, reason })
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
            const reason = `did not finish loading within ${seconds(limits.loadTimeout)}`
            channel.kill(reason)
            return Effect.fail(new SandboxLoadError({ problems: [`the module ${reason}`] }))
          }
        })
      ),
      Effect.withSpan("sandbox.load", { attributes: { provider, sandbox: label, pid: channel.pid } })
    )

    let nextId = 0
    const stopped = (reason: string) =>
      new ProviderRetryableError({ provider, message: `the sandbox running ${label} stopped: ${reason}` })

    /** True when the child answers a ping within `within`: its event loop is not blocked. */
    const responsive = (within: Duration.DurationInput) =>
      Effect.suspend(() => {
        const id = nextId++
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
                  if (Option.isNone(acked))
                    channel.kill(
                      `did not stop ${what} within ${seconds(limits.cancelGrace)} of being cancelled`
                    )
                })
              ),
              Effect.ignore
            )
      )

    /** The reply to `id`; past `timeout`, a live child gets `Cancel`, a blocked one is killed. */
    const answer = (
      id: number,
      what: string,
      timeout: Duration.Duration | undefined,
      wait: Effect.Effect<Reply, string>
    ) =>
      (timeout === undefined ? Effect.map(wait, Option.some) : Effect.timeoutOption(wait, timeout)).pipe(
        Effect.mapError(stopped),
        Effect.flatMap(
          Option.match({
            onSome: (reply) => Effect.succeed<Reply>(reply),
            onNone: () =>
              Effect.gen(function* () {
                const reason = `call ${what} did not answer within ${seconds(timeout!)}`
                if (!(yield* responsive(limits.cancelGrace))) {
                  channel.kill(reason)
                  return yield* Effect.fail(stopped(reason))
                }
                yield* cancel(id, what)
                return yield* Effect.fail(
                  new ProviderRetryableError({ provider, message: `${reason}; DataHub cancelled it` })
                )
              })
          })
        )
      )

    const unexpected = (what: string, reply: Reply) => {
      const reason = `sent a malformed message: answered ${what} with ${reply._tag}`
      channel.kill(reason)
      return Effect.fail(stopped(reason))
    }

    const annotations = { provider, sandbox: label, pid: channel.pid }

    const listAssets = (settings: CallSettings) =>
      Effect.suspend(() => {
        const id = nextId++
        return answer(
          id,
          "listAssets",
          limits.callTimeout,
          channel.exchange(id, { _tag: "Call", id, method: "listAssets", settings })
        ).pipe(
          calls.within(id),
          Effect.onInterrupt(() => cancel(id, "listAssets")),
          Effect.flatMap(
            (reply): Effect.Effect<unknown, ProviderError> =>
              reply._tag === "Result"
                ? Effect.succeed(reply.value)
                : reply._tag === "Failed"
                  ? failFromProvider(provider)(revive(reply.error))
                  : unexpected("listAssets", reply)
          )
        )
      }).pipe(
        Effect.withSpan("sandbox.listAssets", { attributes: annotations }),
        Effect.annotateLogs(annotations)
      )

    const stream = (method: StreamMethod, settings: CallSettings, request: unknown) =>
      Stream.unwrapScoped(
        Effect.gen(function* () {
          const id = nextId++
          yield* calls.enter(id)
          let open = true
          yield* Effect.acquireRelease(
            Effect.sync(() => channel.send({ _tag: "Open", id, method, settings, request })),
            () => (open ? cancel(id, method) : Effect.void)
          )
          // Live feeds may be quiet for long; the heartbeat watches those children instead.
          const timeout = method === "history" ? limits.pullTimeout : undefined
          // Live pulls are spaced by LIVE_PULL_EVERY at least: a busy feed's updates gather in the
          // child meanwhile, where newer versions of a forming bar replace older ones, so the host
          // decodes and screens each bar's newest version instead of every frame. A quiet feed
          // loses nothing: the pull waits in the child, answered as soon as an event comes.
          let lastPull = 0
          const exchange = Effect.suspend(() => {
            lastPull = Date.now()
            return answer(id, method, timeout, channel.exchange(id, { _tag: "Pull", id }))
          })
          const pull =
            method === "history"
              ? exchange
              : Effect.suspend(() => {
                  const wait = lastPull + LIVE_PULL_EVERY_MS - Date.now()
                  return wait > 0 ? Effect.zipRight(Effect.sleep(Duration.millis(wait)), exchange) : exchange
                })
          // A pull answers one page (history) or every event gathered since the last (live).
          return Stream.repeatEffectChunkOption(
            pull.pipe(
              Effect.mapError(Option.some),
              Effect.flatMap((reply): Effect.Effect<Chunk.Chunk<unknown>, Option.Option<ProviderError>> => {
                if (reply._tag === "Item")
                  return Effect.succeed(
                    Chunk.of(reply.page ? unpackPage(reply.value, reply.page) : reply.value)
                  )
                if (reply._tag === "Items")
                  return Effect.succeed(Chunk.unsafeFromArray(unpackEvents(reply.values, reply.bars)))
                open = false
                if (reply._tag === "Done") return Effect.fail(Option.none())
                if (reply._tag === "Failed")
                  return failFromProvider(provider)(revive(reply.error)).pipe(Effect.mapError(Option.some))
                return unexpected(method, reply).pipe(Effect.mapError(Option.some))
              })
            )
          )
        })
      ).pipe(Stream.withSpan(`sandbox.${method}`, { attributes: annotations }))

    if (options.heartbeat)
      yield* Effect.gen(function* () {
        while (channel.gone() === undefined) {
          yield* Effect.sleep(limits.heartbeat)
          if (!(yield* responsive(limits.heartbeat)))
            return channel.kill(
              `stopped answering for ${seconds(limits.heartbeat)} (its event loop is blocked)`
            )
        }
      }).pipe(Effect.forkScoped)

    return {
      pid: channel.pid,
      manifest: loaded.manifest,
      functions: loaded.functions,
      listAssets,
      stream,
      exited: Deferred.await(channel.exited),
      kill: (reason: string) =>
        Effect.sync(() => {
          asked = true
          channel.kill(reason)
        })
    } satisfies Sandbox
  }).pipe(Effect.annotateLogs({ sandbox: options.label }))
