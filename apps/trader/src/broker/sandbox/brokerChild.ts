/**
 * One broker account's sandbox child, as `BrokerCalls`: the broker runner (brokerRunner.ts) on the
 * bundled broker code, with the egress relay (its `ctx.fetch` and `ctx.connect` under the egress
 * policy, to the hosts its URL settings name only; refusals logged), its log lines as Trader's structured logs. A call the host stops
 * waiting for is cancelled in the child; a child too busy to acknowledge is killed. A child that
 * is gone (killed, crashed) fails the calls in flight as retryable (`stateUnknown` for orders) and
 * is started again on the next call.
 */
import { fileURLToPath } from "node:url"
import { logAtLevel, SandboxLimits } from "@quasar/sandbox"
import {
  bundleUpload,
  egressRelay,
  makeEgress,
  type SandboxChild,
  SandboxNetwork,
  SandboxQuota,
  SandboxWorkspace,
  shownUrl,
  start
} from "@quasar/sandbox/node"
import { Effect, Option, Runtime, Scope, Stream, SynchronizedRef } from "effect"
import type { BrokerCalls } from "../BrokerCalls"
import type { OpenedBroker } from "../BrokerCatalog"
import { type BrokerError, BrokerRejected, BrokerUnavailable } from "../BrokerHost"
import {
  type BrokerCallName,
  type ChildMessage,
  decodeChildMessage,
  type HostMessage,
  type Reply
} from "./protocol"

/** The broker runner, bundled into each child's directory. */
export const brokerWorkspace = SandboxWorkspace.layer(
  fileURLToPath(new URL("./brokerRunner.ts", import.meta.url))
)

type Child = SandboxChild<ChildMessage, HostMessage>

/** Starts the child of `opened`; the scope's end stops it (and any restarted one). */
export const startBrokerChild = (opened: OpenedBroker) =>
  Effect.gen(function* () {
    const workspace = yield* SandboxWorkspace
    const limits = yield* SandboxLimits
    const quota = yield* SandboxQuota
    const network = yield* SandboxNetwork
    const { isolation } = network
    // The service's rules, narrowed to the hosts the account's URL settings name.
    const egress = makeEgress({ ...network.egress.rules, onlyHosts: opened.hosts }, network.egress.resolve)
    yield* Effect.addFinalizer(() => Effect.tryPromise(() => egress.dispatcher.destroy()).pipe(Effect.ignore))
    const scope = yield* Effect.scope
    const runFork = Runtime.runFork(yield* Effect.runtime<never>())
    const broker = opened.name
    const label = `${broker} v${opened.version}`
    const annotations = { broker, sandbox: label }

    const bundled = yield* bundleUpload(opened.source, opened.language).pipe(
      Effect.mapError(
        (issues) =>
          new BrokerRejected({
            broker,
            reason: "invalidCode",
            message: `${label} does not build: ${issues.map((i) => i.message).join("; ")}; upload a fixed version`
          })
      )
    )
    const directory = yield* workspace
      .prepare(label, bundled.code)
      .pipe(
        Effect.mapError((e) => new BrokerUnavailable({ broker, reason: "unavailable", message: e.message }))
      )

    const launch: Effect.Effect<Child, BrokerError> = start<ChildMessage, HostMessage>({
      label,
      owner: { broker },
      directory,
      isolation,
      // An account's child waits between calls: pings find it blocked.
      heartbeat: true,
      decode: decodeChildMessage,
      onLog: (log, message, fields) =>
        runFork(logAtLevel[log.level](message).pipe(Effect.annotateLogs({ ...annotations, ...fields }))),
      relay: egressRelay<ChildMessage>(egress, (url, reason) =>
        runFork(
          Effect.logWarning("sandbox egress denied").pipe(
            Effect.annotateLogs({ ...annotations, url: shownUrl(url), reason })
          )
        )
      )
    }).pipe(
      Effect.provideService(SandboxLimits, limits),
      Effect.provideService(SandboxQuota, quota),
      Effect.provideService(Scope.Scope, scope),
      Effect.mapError((e) =>
        e._tag === "SandboxLoadError"
          ? new BrokerRejected({
              broker,
              reason: "invalidCode",
              message: `${label} did not load: ${e.message}; upload a fixed version`
            })
          : new BrokerUnavailable({
              broker,
              reason: "unavailable",
              message: `the sandbox could not start: ${e.message}`
            })
      ),
      Effect.annotateLogs(annotations)
    )

    const current = yield* SynchronizedRef.make(yield* launch)
    // Children a call saw stop: the process may not have exited yet, but it serves nothing more.
    const stoppedChildren = new WeakSet<Child>()
    /** The running child, started again when the last one is gone. */
    const child = SynchronizedRef.updateAndGetEffect(current, (c) =>
      c.gone() === undefined && !stoppedChildren.has(c)
        ? Effect.succeed(c)
        : Effect.logInfo("starting the broker's sandbox again").pipe(
            Effect.annotateLogs({ ...annotations, previous: c.gone() }),
            Effect.zipRight(launch)
          )
    )

    /** What the host maps like a thrown RetryableError (`stateUnknown` for an order, by default). */
    const stopped = (reason: string) => ({
      name: "RetryableError",
      message: `the sandbox running ${label} stopped: ${reason}`,
      childStopped: true
    })
    const isStopped = (e: unknown) => typeof e === "object" && e !== null && "childStopped" in e
    const malformed = (c: Child, what: string, reply: Reply) => {
      const reason = `sent a malformed message: answered ${what} with ${reply._tag}`
      stoppedChildren.add(c)
      return Effect.zipRight(c.kill(reason), Effect.fail(stopped(reason)))
    }

    const attemptCall = (method: BrokerCallName, argument?: unknown): Effect.Effect<unknown, unknown> =>
      Effect.flatMap(child, (c) => {
        const id = c.nextId()
        const message: HostMessage = { _tag: "Call", id, method, settings: opened.settings, argument }
        return c.exchange(id, message).pipe(
          Effect.tapError(() => Effect.sync(() => stoppedChildren.add(c))),
          Effect.mapError((reason): unknown => stopped(reason)),
          Effect.onInterrupt(() => c.cancel(id, method)),
          Effect.flatMap(
            (reply): Effect.Effect<unknown, unknown> =>
              reply._tag === "Result"
                ? Effect.succeed(reply.value)
                : reply._tag === "Failed"
                  ? Effect.fail(reply.error)
                  : malformed(c, method, reply)
          )
        )
      })

    /**
     * A call that met a stopping child is asked once more of a new one, except an order: whether
     * the old child sent it is unknown, which the caller learns as `stateUnknown`.
     */
    const call = (method: BrokerCallName, argument?: unknown): Effect.Effect<unknown, unknown> =>
      method === "placeOrder"
        ? attemptCall(method, argument)
        : attemptCall(method, argument).pipe(Effect.catchIf(isStopped, () => attemptCall(method, argument)))

    const orderUpdates = (since: number): Stream.Stream<unknown, unknown> =>
      Stream.unwrapScoped(
        Effect.gen(function* () {
          const c = yield* child
          const id = c.nextId()
          let open = true
          yield* Effect.acquireRelease(
            Effect.sync(() => c.send({ _tag: "Open", id, settings: opened.settings, since })),
            () => (open ? c.cancel(id, "orderUpdates") : Effect.void)
          )
          const pull = c.exchange(id, { _tag: "Pull", id }).pipe(
            Effect.tapError(() => Effect.sync(() => stoppedChildren.add(c))),
            Effect.mapError((reason) => Option.some<unknown>(stopped(reason))),
            Effect.flatMap((reply): Effect.Effect<unknown, Option.Option<unknown>> => {
              if (reply._tag === "Item") return Effect.succeed(reply.value)
              open = false
              if (reply._tag === "Done") return Effect.fail(Option.none())
              if (reply._tag === "Failed") return Effect.fail(Option.some(reply.error))
              return malformed(c, "orderUpdates", reply).pipe(Effect.mapError(Option.some))
            })
          )
          return Stream.repeatEffectOption(pull)
        })
      )

    return {
      placeOrder: (order) => call("placeOrder", order),
      cancelOrder: (ref) => call("cancelOrder", ref),
      findOrder: (ref) => call("findOrder", ref),
      openOrders: call("openOrders"),
      positions: call("positions"),
      balances: call("balances"),
      orderUpdates
    } satisfies BrokerCalls
  })
