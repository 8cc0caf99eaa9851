/**
 * The part of the host–child protocol that every sandbox shares, whatever code it runs. Messages
 * travel over Node's IPC channel (`serialization: "advanced"`, i.e. structured clone); the host
 * decodes **every** child message with a schema, because the child runs untrusted code that can
 * call `process.send` itself, and a message that does not decode gets the child killed.
 *
 * An app's own protocol adds its calls and replies: a child message that answers a call carries
 * the call's `id`; the verdict (`Loaded`/`LoadFailed`) carries the token of childInit.ts.
 */
import { Schema } from "effect"
import { RelayRequest } from "./egress/relayProtocol"

export const CallId = Schema.Int.pipe(Schema.nonNegative())

/** An error the sandboxed code threw, as plain data; the host classifies it by `name`. */
export const ThrownError = Schema.Struct({
  name: Schema.String,
  message: Schema.String,
  retryAfterMs: Schema.optional(Schema.Number)
})
export type ThrownError = typeof ThrownError.Type

/** Where in the upload (1-based line and column) the module threw while loading. */
export const LoadPosition = Schema.Struct({ line: Schema.Int, column: Schema.Int })
export type LoadPosition = typeof LoadPosition.Type

/**
 * The module loaded and passed the runner's checks. `token` is the one the host sent the runner
 * before it imported the upload (childInit.ts): a verdict sent by the upload itself cannot carry
 * it. `fields` are what the app's runner reports about the module.
 */
export const loadedMessage = <Fields extends Schema.Struct.Fields>(fields: Fields) =>
  Schema.TaggedStruct("Loaded", { token: Schema.String, ...fields })

/** The module threw while loading, or its default export breaks the contract. */
export const LoadFailed = Schema.TaggedStruct("LoadFailed", {
  token: Schema.String,
  problems: Schema.Array(Schema.String),
  at: Schema.optional(LoadPosition)
})

export const Cancelled = Schema.TaggedStruct("Cancelled", { id: CallId })
export const Pong = Schema.TaggedStruct("Pong", { id: CallId })

export const LogLevel = Schema.Literal("debug", "info", "warn", "error")

export const Log = Schema.TaggedStruct("Log", {
  level: LogLevel,
  message: Schema.String,
  fields: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown })),
  /** The call whose context wrote the line; absent outside calls. */
  call: Schema.optional(CallId)
})
export type Log = typeof Log.Type

/**
 * The child messages of every runner whose code may reach the network, besides its verdict and
 * its calls' replies: the control answers, log lines and the egress relay's requests.
 */
export const runnerMessages = [Cancelled, Pong, Log, ...RelayRequest.members] as const

/** The verdict as the host reads it, whatever else the app's `Loaded` carries. */
export type LoadedBase = { readonly _tag: "Loaded"; readonly token: string }
export type LoadFailed = typeof LoadFailed.Type

/** Host → child messages every runner answers: `Cancel` with `Cancelled`, `Ping` with `Pong`. */
export type ControlMessage =
  /** Aborts the call; the child answers `Cancelled` (which also proves it is responsive). */
  { readonly _tag: "Cancel"; readonly id: number } | { readonly _tag: "Ping"; readonly id: number }

/** The shape every app's child message has; the app's schema says which tags exist. */
export interface ChildMessageBase {
  readonly _tag: string
}

/** The app's `Loaded` message. */
export type LoadedOf<M> = Extract<M, { readonly _tag: "Loaded" }>
/** What answers one call id. */
export type ReplyOf<M> = Extract<M, { readonly id: number }>
