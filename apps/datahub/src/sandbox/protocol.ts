/**
 * The messages DataHub and a provider's sandbox child exchange over Node's IPC channel, on top of
 * the ones every sandbox shares (`@quasar/sandbox` protocol.ts: verdict, log, ping, cancel; and
 * relayProtocol.ts: the egress relay's `ctx.fetch`/`ctx.connect` requests and replies). The
 * host decodes **every** child message with these schemas: the child runs untrusted code that can
 * call `process.send` itself, so a message that does not decode gets the child killed. Host
 * messages are only typed (the runner is bundled without Effect to stay small).
 *
 * Streams are pull-based: the child answers each `Pull` with exactly one `Item` (history: one
 * page), `Items` (live: every event gathered since the last pull), `Done` or `Failed`. A history
 * generator is asked for one page ahead at most; a live one is read ahead into a bounded buffer
 * (LIVE_BUFFER) in which a forming bar replaces the not yet sent forming version of the same bar,
 * so a slow consumer holds the provider's generator still (backpressure) and a fast feed costs
 * the host one message per pull, not one per update.
 */
import {
  CallId,
  type ControlMessage,
  LoadFailed,
  loadedMessage,
  NUMBERS_PER_BAR,
  packedProblem,
  type RelayReply,
  runnerMessages,
  ThrownError
} from "@quasar/sandbox"
import { Schema } from "effect"

export {
  isRelayRequest,
  LoadPosition,
  type RelayReply,
  type RelayRequest,
  ThrownError
} from "@quasar/sandbox"

/** The most live events the child buffers, and so the most one `Items` carries. */
export const LIVE_BUFFER = 20_000

export type SettingValue = string | number | boolean
export type CallSettings = Readonly<Record<string, SettingValue>>

export type StreamMethod = "history" | "live"

/** Host → child. */
export type HostMessage =
  | {
      readonly _tag: "Call"
      readonly id: number
      readonly method: "listAssets"
      readonly settings: CallSettings
    }
  | {
      readonly _tag: "Open"
      readonly id: number
      readonly method: StreamMethod
      readonly settings: CallSettings
      readonly request: unknown
    }
  | { readonly _tag: "Pull"; readonly id: number }
  | ControlMessage
  | RelayReply

export const Capability = Schema.Literal("listAssets", "history", "live")
export type Capability = typeof Capability.Type

/**
 * The module loaded and its default export passed the runner's contract check. `token` is the
 * one DataHub sent the runner before it imported provider code (`@quasar/sandbox` childInit.ts):
 * a verdict sent by provider code itself cannot carry it.
 */
export const Loaded = loadedMessage({
  /** The export's data fields, decoded into the domain `Manifest` by the host (see manifest.ts). */
  manifest: Schema.Unknown,
  functions: Schema.Array(Capability)
})

export const Result = Schema.TaggedStruct("Result", { id: CallId, value: Schema.Unknown })
/** A history page's bars as columns (`@quasar/sandbox` packedBars.ts): eight numbers per bar. */
export const PackedPageColumns = Schema.Struct({
  flags: Schema.instanceOf(Uint8Array),
  numbers: Schema.instanceOf(Float64Array)
}).pipe(
  Schema.filter(({ flags, numbers }) =>
    numbers.length === flags.length * NUMBERS_PER_BAR ? undefined : "packed page columns of different lengths"
  )
)
/** One history page: `value`, with its `bars` in `page` when they were sent as columns. */
export const Item = Schema.TaggedStruct("Item", {
  id: CallId,
  value: Schema.Unknown,
  page: Schema.optional(PackedPageColumns)
})
/** Bar events as columns (`@quasar/sandbox` packedBars.ts), checked for lengths and positions. */
export const PackedBarColumns = Schema.Struct({
  at: Schema.instanceOf(Int32Array),
  symbols: Schema.Array(Schema.String),
  flags: Schema.instanceOf(Uint8Array),
  numbers: Schema.instanceOf(Float64Array)
})
/** Events in order: `values` as they are, `bars` (optional) as columns placed among them. */
export const Items = Schema.TaggedStruct("Items", {
  id: CallId,
  values: Schema.Array(Schema.Unknown).pipe(Schema.maxItems(LIVE_BUFFER)),
  bars: Schema.optional(PackedBarColumns)
}).pipe(
  Schema.filter(({ values, bars }) => {
    const total = values.length + (bars?.at.length ?? 0)
    if (total < 1 || total > LIVE_BUFFER)
      return `an Items message holds 1 to ${LIVE_BUFFER} events, not ${total}`
    return bars === undefined ? undefined : packedProblem(values, bars)
  })
)
export const Done = Schema.TaggedStruct("Done", { id: CallId })
export const Failed = Schema.TaggedStruct("Failed", { id: CallId, error: ThrownError })

/** Child → host. */
export const ChildMessage = Schema.Union(
  Loaded,
  LoadFailed,
  Result,
  Item,
  Items,
  Done,
  Failed,
  ...runnerMessages
)
export type ChildMessage = typeof ChildMessage.Type

/** What answers one call id. */
export type Reply = Extract<ChildMessage, { readonly id: number }>

export const decodeChildMessage = Schema.decodeUnknownEither(ChildMessage)
