/**
 * How Trader talks to a broker: one `BrokerHandle` per opened broker account, whose calls are the
 * SDK's broker contract (`@quasar/providers/sdk`, `BrokerDefinition`) as Effects. The production
 * layer runs the broker's code in the sandbox with its egress policy and its opened settings; the
 * `testing` entry runs a module in process. Deployments depend on this Tag only.
 */
import type {
  Balance,
  BrokerErrorReason,
  BrokerEvent,
  BrokerOrder,
  OrderRef,
  OrderRequest,
  Position
} from "@quasar/providers/sdk"
import { Context, type Effect, type Option, Schema, type Scope, type Stream } from "effect"

/** The broker refused and nothing was placed or changed: retrying the same call cannot help. */
export class BrokerRejected extends Schema.TaggedError<BrokerRejected>()("BrokerRejected", {
  broker: Schema.String,
  reason: Schema.String,
  message: Schema.String
}) {}

/**
 * The broker did not answer, or answered that it is busy: the call may be retried after
 * `retryAfterMs`. For `placeOrder` with reason `stateUnknown` the order may exist: look it up with
 * `findOrder` by client order id before anything else.
 */
export class BrokerUnavailable extends Schema.TaggedError<BrokerUnavailable>()("BrokerUnavailable", {
  broker: Schema.String,
  reason: Schema.String,
  message: Schema.String,
  retryAfterMs: Schema.optional(Schema.Number)
}) {}

export type BrokerError = BrokerRejected | BrokerUnavailable

/** The reasons a broker gives, as the SDK defines them. */
export type { BrokerErrorReason }

export interface BrokerHandle {
  /** The broker code's name and the version that runs. */
  readonly broker: string
  readonly version: number
  readonly placeOrder: (order: OrderRequest) => Effect.Effect<BrokerOrder, BrokerError>
  readonly cancelOrder: (ref: OrderRef) => Effect.Effect<BrokerOrder, BrokerError>
  readonly findOrder: (ref: OrderRef) => Effect.Effect<Option.Option<BrokerOrder>, BrokerError>
  readonly openOrders: Effect.Effect<ReadonlyArray<BrokerOrder>, BrokerError>
  readonly positions: Effect.Effect<ReadonlyArray<Position>, BrokerError>
  readonly balances: Effect.Effect<ReadonlyArray<Balance>, BrokerError>
  /**
   * Order changes and fills from `since` (epoch ms) on. The stream restarts the broker's iterable
   * after a retryable failure, from the last fill it passed on; repeated fills may appear (drop
   * them by fill id). It fails only with a `BrokerRejected`. `onRestart` runs before each restart
   * (not the first start): what happened while the stream was down is for the caller to look up.
   */
  readonly orderUpdates: (
    since: number,
    onRestart?: Effect.Effect<void>
  ) => Stream.Stream<BrokerEvent, BrokerRejected>
}

export class BrokerHost extends Context.Tag("@quasar/trader/BrokerHost")<
  BrokerHost,
  {
    /**
     * Opens the active version of broker code `broker` with its stored settings (secrets opened by
     * the Registry on the internal channel). The handle lives as long as the scope.
     */
    readonly open: (broker: string) => Effect.Effect<BrokerHandle, BrokerError, Scope.Scope>
  }
>() {}
