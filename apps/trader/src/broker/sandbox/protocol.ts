/**
 * What Trader and a broker's sandbox child exchange, on top of what every sandbox shares
 * (`@quasar/sandbox`: verdict, log, ping, cancel, and the egress relay through which the broker's
 * `ctx.fetch` and `ctx.connect` reach its venue). One child runs one broker account: every call
 * carries the account's settings (resolved by the host against the broker's manifest), the
 * child answers it with `Result` or `Failed` (the SDK error's name, message, reason and
 * `retryAfterMs`). `orderUpdates` is pull-based: `Open` starts the iterable, each `Pull` gets one
 * `Item`, `Done` (it ended) or `Failed`; `Cancel` stops it. The host decodes every child message
 * with these schemas and checks every value against the domain's BrokerWire schemas.
 */
import {
  CallId,
  type ControlMessage,
  LoadFailed,
  loadedMessage,
  type RelayReply,
  runnerMessages
} from "@quasar/sandbox"
import { Schema } from "effect"

export type SettingValue = string | number | boolean
export type CallSettings = Readonly<Record<string, SettingValue>>

export const BROKER_CALLS = [
  "placeOrder",
  "cancelOrder",
  "findOrder",
  "openOrders",
  "positions",
  "balances"
] as const
export type BrokerCallName = (typeof BROKER_CALLS)[number]

/** Host → child. */
export type HostMessage =
  | {
      readonly _tag: "Call"
      readonly id: number
      readonly method: BrokerCallName
      readonly settings: CallSettings
      /** The order (placeOrder) or the order reference (cancelOrder, findOrder). */
      readonly argument?: unknown
    }
  | { readonly _tag: "Open"; readonly id: number; readonly settings: CallSettings; readonly since: number }
  | { readonly _tag: "Pull"; readonly id: number }
  | ControlMessage
  | RelayReply

/** An error the broker threw, as plain data: the host maps it by `name` and `reason`. */
export const BrokerThrown = Schema.Struct({
  name: Schema.String,
  message: Schema.String,
  reason: Schema.optional(Schema.String),
  retryAfterMs: Schema.optional(Schema.Number)
})
export type BrokerThrown = typeof BrokerThrown.Type

/** The module loaded and its default export is a broker (`name` as it declares it). */
export const Loaded = loadedMessage({ name: Schema.String })
export const Result = Schema.TaggedStruct("Result", { id: CallId, value: Schema.Unknown })
export const Item = Schema.TaggedStruct("Item", { id: CallId, value: Schema.Unknown })
export const Done = Schema.TaggedStruct("Done", { id: CallId })
export const Failed = Schema.TaggedStruct("Failed", { id: CallId, error: BrokerThrown })

/** Child → host. */
export const ChildMessage = Schema.Union(Loaded, LoadFailed, Result, Item, Done, Failed, ...runnerMessages)
export type ChildMessage = typeof ChildMessage.Type

/** What answers one call id. */
export type Reply = Extract<ChildMessage, { readonly id: number }>

export const decodeChildMessage = Schema.decodeUnknownEither(ChildMessage)
