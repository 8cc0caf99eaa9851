/**
 * A broker's calls before the host checks anything: each succeeds with what the broker returned
 * (unknown until checked) or fails with what it threw (an SDK error, or its plain-data form from
 * the sandbox child). Interrupting a call cancels it at the broker (its signal aborts). The
 * sandboxed host sends them over IPC to the child; in process they call the module with its
 * context bound to the call's signal.
 */
import { withCallSignal } from "@quasar/providers/host"
import type { Broker, OrderRef, OrderRequest, ProviderContext, SettingsSpec } from "@quasar/providers/sdk"
import { Duration, Effect, Option, Stream } from "effect"

export interface BrokerCalls {
  readonly placeOrder: (order: OrderRequest) => Effect.Effect<unknown, unknown>
  readonly cancelOrder: (ref: OrderRef) => Effect.Effect<unknown, unknown>
  readonly findOrder: (ref: OrderRef) => Effect.Effect<unknown, unknown>
  readonly openOrders: Effect.Effect<unknown, unknown>
  readonly positions: Effect.Effect<unknown, unknown>
  readonly balances: Effect.Effect<unknown, unknown>
  /** One life of the broker's update iterable; it ends when the broker's iterable ends. */
  readonly orderUpdates: (since: number) => Stream.Stream<unknown, unknown>
}

/** A broker that ignores its signal must not hold the host's fiber forever on close. */
const CLOSE_TIMEOUT = Duration.seconds(5)

/** The calls of a module in this process, each on the context bound to its own signal. */
export const inProcessCalls = <S extends SettingsSpec>(
  broker: Broker<S>,
  ctx: ProviderContext<S>
): BrokerCalls => {
  const bound = (signal: AbortSignal) => withCallSignal(ctx, AbortSignal.any([signal, ctx.signal]))
  const call = <A>(run: (ctx: ProviderContext<S>) => Promise<A>) =>
    Effect.tryPromise({ try: (signal) => run(bound(signal)), catch: (e) => e })
  return {
    placeOrder: (order) => call((c) => broker.placeOrder(c, order)),
    cancelOrder: (ref) => call((c) => broker.cancelOrder(c, ref)),
    findOrder: (ref) => call((c) => broker.findOrder(c, ref)),
    openOrders: call((c) => broker.openOrders(c)),
    positions: call((c) => broker.positions(c)),
    balances: call((c) => broker.balances(c)),
    orderUpdates: (since) =>
      Stream.unwrapScoped(
        Effect.gen(function* () {
          const controller = new AbortController()
          // On close the signal aborts first, so a generator parked in an `await` can settle.
          yield* Effect.addFinalizer(() => Effect.sync(() => controller.abort()))
          const iterator = yield* Effect.acquireRelease(
            Effect.try({
              try: () => broker.orderUpdates(bound(controller.signal), { since })[Symbol.asyncIterator](),
              catch: (e) => e
            }),
            (it) =>
              Effect.sync(() => controller.abort()).pipe(
                Effect.zipRight(Effect.tryPromise(async () => void (await it.return?.()))),
                Effect.interruptible,
                Effect.timeout(CLOSE_TIMEOUT),
                Effect.ignore
              )
          )
          const next = Effect.tryPromise({ try: () => iterator.next(), catch: (e) => Option.some(e) })
          return Stream.repeatEffectOption(
            Effect.flatMap(next, (r) => (r.done ? Effect.fail(Option.none()) : Effect.succeed(r.value)))
          )
        })
      )
  }
}
