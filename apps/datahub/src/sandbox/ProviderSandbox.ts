/**
 * A provider's sandbox child: the library's sandbox (`@quasar/sandbox`) running the provider
 * runner (runner.ts), with the provider protocol (protocol.ts) on top. Its `ctx.fetch` and
 * `ctx.connect` are made by DataHub under the egress policy (`@quasar/sandbox` node/egress/); every call has a timeout,
 * a span and annotated logs; a caller that stops waiting cancels the call.
 */
import { fileURLToPath } from "node:url"
import { type ProviderError, ProviderRetryableError } from "@quasar/domain"
import {
  SandboxLimits,
  type SandboxLoadError,
  type SandboxSetupError,
  seconds,
  unpackEvents,
  unpackPage
} from "@quasar/sandbox"
import {
  egressRelay,
  neutral,
  SandboxNetwork,
  type SandboxQuota,
  SandboxWorkspace,
  shownUrl,
  start as startChild
} from "@quasar/sandbox/node"
import { Chunk, Duration, Effect, Option, Runtime, type Scope, Stream } from "effect"
import { makeCallContexts } from "./callContexts"
import {
  type CallSettings,
  type Capability,
  type ChildMessage,
  decodeChildMessage,
  type HostMessage,
  type Reply,
  type StreamMethod,
  type ThrownError
} from "./protocol"
import { failFromProvider, providerLogger } from "./providerHost"

/** The sandbox workspace with the provider runner. */
export const providerWorkspace = SandboxWorkspace.layer(
  fileURLToPath(new URL("./runner.ts", import.meta.url))
)

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

/** An error the provider threw, rebuilt so the host's classifier can read its `name`. */
const revive = (thrown: ThrownError): Error => {
  const error = thrown.name === "TypeError" ? new TypeError(thrown.message) : new Error(thrown.message)
  Object.defineProperty(error, "name", { value: thrown.name })
  if (thrown.retryAfterMs !== undefined) Object.assign(error, { retryAfterMs: thrown.retryAfterMs })
  return error
}

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
    const { isolation, egress } = yield* SandboxNetwork
    const { provider, label } = options
    const runtime = yield* neutral(Effect.runtime<never>())
    const logger = yield* neutral(providerLogger(provider, { sandbox: label }))
    const runFork = Runtime.runFork(runtime)
    const calls = makeCallContexts(runtime)
    const child = yield* startChild<ChildMessage, HostMessage>({
      label,
      owner: { provider },
      directory: options.directory,
      isolation,
      heartbeat: options.heartbeat,
      decode: decodeChildMessage,
      onLog: (log, message, fields) => {
        if (!calls.log(log, message, { provider, sandbox: label, ...(fields ? { fields } : {}) }))
          logger[log.level](message, fields)
      },
      relay: egressRelay<ChildMessage>(egress, (url, reason) =>
        runFork(
          Effect.logWarning("sandbox egress denied").pipe(
            Effect.annotateLogs({ provider, sandbox: label, url: shownUrl(url), reason })
          )
        )
      )
    })

    const stopped = (reason: string) =>
      new ProviderRetryableError({ provider, message: `the sandbox running ${label} stopped: ${reason}` })

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
                if (!(yield* child.responsive(limits.cancelGrace))) {
                  yield* child.kill(reason)
                  return yield* Effect.fail(stopped(reason))
                }
                yield* child.cancel(id, what)
                return yield* Effect.fail(
                  new ProviderRetryableError({ provider, message: `${reason}; DataHub cancelled it` })
                )
              })
          })
        )
      )

    const unexpected = (what: string, reply: Reply) => {
      const reason = `sent a malformed message: answered ${what} with ${reply._tag}`
      return child.kill(reason).pipe(Effect.zipRight(Effect.fail(stopped(reason))))
    }

    const annotations = { provider, sandbox: label, pid: child.pid }

    const listAssets = (settings: CallSettings) =>
      Effect.suspend(() => {
        const id = child.nextId()
        return answer(
          id,
          "listAssets",
          limits.callTimeout,
          child.exchange(id, { _tag: "Call", id, method: "listAssets", settings })
        ).pipe(
          calls.within(id),
          Effect.onInterrupt(() => child.cancel(id, "listAssets")),
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
          const id = child.nextId()
          yield* calls.enter(id)
          let open = true
          yield* Effect.acquireRelease(
            Effect.sync(() => child.send({ _tag: "Open", id, method, settings, request })),
            () => (open ? child.cancel(id, method) : Effect.void)
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
            return answer(id, method, timeout, child.exchange(id, { _tag: "Pull", id }))
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

    return {
      pid: child.pid,
      manifest: child.loaded.manifest,
      functions: child.loaded.functions,
      listAssets,
      stream,
      exited: child.exited,
      kill: child.stop
    } satisfies Sandbox
  }).pipe(Effect.annotateLogs({ sandbox: options.label }))
