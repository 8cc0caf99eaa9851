/**
 * A `BrokerHandle` over a broker's raw calls (BrokerCalls.ts, cancelled at the broker when
 * interrupted): each call gets a timeout (an order call that times out may have
 * reached the broker: `stateUnknown`), its errors mapped to `BrokerRejected`/`BrokerUnavailable`,
 * its result checked against the SDK's shapes, and a span with annotated logs. `orderUpdates` is
 * a Stream restarted by `updatesRestartSchedule` from the last fill it passed on.
 */

import type { BrokerEvent } from "@quasar/providers/sdk"
import { Duration, Effect, Option, Stream } from "effect"
import type { BrokerCalls } from "./BrokerCalls"
import { type BrokerError, type BrokerHandle, type BrokerRejected, BrokerUnavailable } from "./BrokerHost"
import { mapBrokerError, timedOut } from "./brokerError"
import {
  type Check,
  checkBalances,
  checkEvent,
  checkOrder,
  checkOrders,
  checkPositions,
  mapChecked
} from "./brokerResults"
import { type RestartOptions, updatesRestartSchedule } from "./updatesSchedule"

export interface HandleOptions {
  readonly broker: string
  readonly version: number
  readonly calls: BrokerCalls
  /** How long one call may take (default 30 s). */
  readonly callTimeout?: Duration.DurationInput
  /** How long `orderUpdates` may stay silent before it is restarted (default 2 min). */
  readonly updatesIdleTimeout?: Duration.DurationInput
  /** The delays between restarts of `orderUpdates` (see `updatesRestartSchedule`). */
  readonly restart?: RestartOptions
}

const DEFAULT_CALL_TIMEOUT = Duration.seconds(30)
const DEFAULT_IDLE_TIMEOUT = Duration.minutes(2)

const refAnnotations = (
  ref: { readonly orderId: string } | { readonly clientOrderId: string }
): Readonly<Record<string, string>> =>
  "orderId" in ref ? { orderId: ref.orderId } : { clientOrderId: ref.clientOrderId }

export const makeBrokerHandle = (options: HandleOptions): BrokerHandle => {
  const { broker, calls } = options
  const timeout = Duration.decode(options.callTimeout ?? DEFAULT_CALL_TIMEOUT)
  const idle = Duration.decode(options.updatesIdleTimeout ?? DEFAULT_IDLE_TIMEOUT)
  const restart = updatesRestartSchedule(options.restart)

  const fail = (call: string) => (error: unknown) => {
    const mapped = mapBrokerError(broker, call, error)
    return (
      mapped.bug
        ? Effect.logWarning("broker threw an error the SDK does not define").pipe(
            Effect.annotateLogs({ error: mapped.error.message })
          )
        : Effect.void
    ).pipe(Effect.zipRight(Effect.fail(mapped.error)))
  }

  const checked =
    <A>(call: string, check: Check<A>) =>
    (value: unknown): Effect.Effect<A, BrokerError> => {
      const result = check(value)
      return result.ok
        ? Effect.succeed(result.value)
        : Effect.logWarning("broker returned a malformed result").pipe(
            Effect.annotateLogs({ problem: result.problem }),
            Effect.zipRight(
              Effect.fail(
                new BrokerUnavailable({
                  broker,
                  // A malformed answer to an order may still stand for a placed order.
                  reason: call === "placeOrder" ? "stateUnknown" : "unavailable",
                  message: `${call} returned a malformed result (${result.problem}); this is a bug in the broker code`
                })
              )
            )
          )
    }

  const call = <A>(
    name: string,
    annotations: Readonly<Record<string, string>>,
    run: Effect.Effect<unknown, unknown>,
    check: Check<A>
  ): Effect.Effect<A, BrokerError> =>
    run.pipe(
      Effect.catchAll(fail(name)),
      Effect.timeoutFail({
        duration: timeout,
        onTimeout: () => timedOut(broker, name, Duration.toMillis(timeout))
      }),
      Effect.flatMap(checked(name, check)),
      Effect.tapError((e) =>
        Effect.annotateCurrentSpan({ error: e._tag, reason: e.reason }).pipe(
          Effect.zipRight(Effect.logWarning(`broker ${name} failed`)),
          Effect.annotateLogs({ error: e._tag, reason: e.reason, message: e.message })
        )
      ),
      Effect.tap(() => Effect.logDebug(`broker ${name}`)),
      Effect.annotateLogs({ broker, ...annotations }),
      Effect.withSpan(`broker.${name}`, { attributes: { broker, ...annotations } })
    )

  /** One life of the broker's iterable, ending in a failure (its end too, so that it restarts). */
  const life = (since: number): Stream.Stream<unknown, BrokerError> =>
    calls.orderUpdates(since).pipe(
      Stream.catchAll((e) => Stream.fromEffect(fail("orderUpdates")(e))),
      Stream.timeoutFail(
        () =>
          new BrokerUnavailable({
            broker,
            reason: "unavailable",
            message: `order updates were silent for ${Duration.format(idle)}; restarting them`
          }),
        idle
      ),
      Stream.concat(
        Stream.fail(
          new BrokerUnavailable({
            broker,
            reason: "unavailable",
            message: "order updates ended; restarting them"
          })
        )
      )
    )

  const orderUpdates = (
    since: number,
    onRestart: Effect.Effect<void> = Effect.void
  ): Stream.Stream<BrokerEvent, BrokerRejected> =>
    Stream.suspend(() => {
      // The last fill passed on: a restart asks from there (repeats are the consumer's to drop).
      let from = since
      let lives = 0
      return Stream.suspend(() =>
        lives++ === 0 ? life(from) : Stream.concat(Stream.drain(Stream.fromEffect(onRestart)), life(from))
      ).pipe(
        Stream.mapEffect(checked("orderUpdates", checkEvent)),
        Stream.tap((event) =>
          Effect.sync(() => {
            if (event.type === "fill") from = Math.max(from, event.fill.ts)
          })
        ),
        Stream.retry(restart),
        // The schedule retries every BrokerUnavailable for as long as the stream runs.
        Stream.catchTag("BrokerUnavailable", (e) => Stream.die(e)),
        Stream.withSpan("broker.orderUpdates", { attributes: { broker, since } })
      )
    })

  return {
    broker,
    version: options.version,
    placeOrder: (order) =>
      call(
        "placeOrder",
        { clientOrderId: order.clientOrderId, symbol: order.symbol },
        calls.placeOrder(order),
        checkOrder
      ),
    cancelOrder: (ref) => call("cancelOrder", refAnnotations(ref), calls.cancelOrder(ref), checkOrder),
    findOrder: (ref) =>
      call("findOrder", refAnnotations(ref), calls.findOrder(ref), (value) =>
        value === undefined || value === null
          ? { ok: true, value: Option.none() }
          : mapChecked(checkOrder(value), Option.some)
      ),
    openOrders: call("openOrders", {}, calls.openOrders, checkOrders),
    positions: call("positions", {}, calls.positions, checkPositions),
    balances: call("balances", {}, calls.balances, checkBalances),
    orderUpdates
  }
}
