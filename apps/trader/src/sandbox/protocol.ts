/**
 * What Trader and a strategy's sandbox child exchange, on top of the messages every sandbox shares
 * (`@quasar/sandbox`: verdict, log, ping, cancel). One child runs one backtest: the host sends
 * `Run` with the inputs and, per universe member, a file of the child's directory (the one place
 * its permissions let it read) that its bars go into as DataHub's answer arrives (the
 * `GET /bars/columns` format, as DataHub sends it); each `Bars` message says how far a file has
 * grown, and whether it is whole. The child reads what is new and runs the bar times every
 * member has brought, so the run goes on while its bars load. Files, not the IPC channel: the
 * channel's structured clone moves tens of MB/s, while a million bars' 48 MB are written and
 * read back from the page cache in a fraction of the time. The child answers `Run` with
 * `Progress` now and then, each after an `Equity` message with the equity curve's values since
 * the last (so the curve, most of a result's bytes, crosses the channel while the run goes on,
 * not after it), and finally `Finished` (the result but its equity curve) or `Refused` (inputs
 * that cannot run). Every child message is decoded by the host; the result, its curve joined
 * in, is validated against the domain schema.
 *
 * Live mode (a deployment): instead of `Run`, the host sends `Live` with the params, answered by
 * `LiveReady` (or `Refused`); then, for as long as the deployment runs, `Feed` messages with closed
 * bars: without `account` they only warm the strategy up (answered by `Taken`), with it `onBar`
 * runs and the child answers `Decision` (the orders and cancels, which the host checks before any
 * account sees them) or `Threw`.
 */
import { CallId, type ControlMessage, LoadFailed, Log, loadedMessage, Pong } from "@quasar/sandbox"
import { Schema } from "effect"

/** One closed bar of a universe member (the SDK's `Bar`). */
export interface LiveBarMessage {
  readonly symbol: string
  readonly ts: number
  readonly open: number
  readonly high: number
  readonly low: number
  readonly close: number
  readonly volume: number
}

/** The account as the strategy sees it before a call (plain data: it crosses the IPC channel). */
export interface LiveAccountMessage {
  readonly cash: number
  /** [symbol, quantity, average price] of each position held. */
  readonly positions: ReadonlyArray<readonly [string, number, number]>
  readonly openOrders: ReadonlyArray<{
    readonly id: number
    readonly symbol: string
    readonly side: "buy" | "sell"
    readonly type: "market" | "limit" | "stop"
    readonly quantity?: number
    readonly limitPrice?: number
    readonly stopPrice?: number
    readonly placedAt: number
  }>
  readonly nextOrderId: number
}

/** The run's inputs as the child needs them (the strategy is the module it loaded). */
export interface RunInputs {
  readonly codeSha256: string
  readonly params: Readonly<Record<string, unknown>>
  readonly provider: string
  readonly from: number
  readonly to: number
  readonly initialCash: number
  readonly fill: { readonly feeBps: number; readonly slippageBps: number }
}

/**
 * Where a universe member's bars reach the child: a file of its directory that grows, in the bar
 * columns format (header, blocks, end block), as DataHub's answer arrives.
 */
export interface BarsFile {
  readonly key: string
  /** Bars the member is expected to bring (room is made for them; progress counts on them). */
  readonly expected: number
  /** A plain file name (no directory). */
  readonly file: string
}

/** Host → child. */
export type HostMessage =
  | {
      readonly _tag: "Run"
      readonly id: number
      readonly inputs: RunInputs
      /** Per universe key, the file its bars arrive in, in the child's directory. */
      readonly bars: ReadonlyArray<BarsFile>
      /** Bar times between two `Progress` messages. */
      readonly every: number
    }
  | {
      readonly _tag: "Bars"
      /** The run's id. */
      readonly id: number
      /** Which of the run's files (its index in `bars`). */
      readonly index: number
      /** The file now holds this many bytes. */
      readonly size: number
      /** They are all of the member's bars: the file is whole. */
      readonly final: boolean
    }
  | { readonly _tag: "Live"; readonly id: number; readonly params: Readonly<Record<string, unknown>> }
  | {
      readonly _tag: "Feed"
      readonly id: number
      readonly bars: ReadonlyArray<LiveBarMessage>
      /** Present: call `onBar` after the bars are in; absent: warm up only. */
      readonly account?: LiveAccountMessage
    }
  | ControlMessage

/** The strategy's export as the runner found it: name and version, for logs. */
export const Loaded = loadedMessage({
  name: Schema.String.pipe(Schema.maxLength(200)),
  version: Schema.String.pipe(Schema.maxLength(200))
})

export const Progress = Schema.TaggedStruct("Progress", {
  run: CallId,
  done: Schema.Int.pipe(Schema.nonNegative()),
  total: Schema.Int.pipe(Schema.nonNegative())
})
export type Progress = typeof Progress.Type

const Float64ArrayFromSelf = Schema.declare((u: unknown): u is Float64Array => u instanceof Float64Array, {
  identifier: "Float64Array"
})

/** The run's equity curve at traded bar times `at`… (in order after the last `Equity`). */
export const Equity = Schema.TaggedStruct("Equity", {
  run: CallId,
  at: Schema.Int.pipe(Schema.nonNegative()),
  ts: Float64ArrayFromSelf,
  equity: Float64ArrayFromSelf,
  benchmark: Float64ArrayFromSelf
})
export type Equity = typeof Equity.Type

/** A warm-up `Feed` is taken: the host may send the next. */
export const Taken = Schema.TaggedStruct("Taken", { id: CallId })

/** The run's result but its equity curve (sent in `Equity` messages before), validated by the host. */
export const Finished = Schema.TaggedStruct("Finished", { id: CallId, result: Schema.Unknown })

/** The inputs cannot run (prepareBacktest's problems): nothing ran. */
export const Refused = Schema.TaggedStruct("Refused", {
  id: CallId,
  problems: Schema.Array(Schema.String.pipe(Schema.maxLength(2_000))).pipe(Schema.maxItems(100))
})

/** The live session is set up: `Feed` may come. */
export const LiveReady = Schema.TaggedStruct("LiveReady", { id: CallId })

const Bounded = (n: number) => Schema.String.pipe(Schema.maxLength(n))
const OptionalNumber = Schema.optional(Schema.Number)

/** What `onBar` decided; each order is checked again by the deployment before it reaches an account. */
export const Decision = Schema.TaggedStruct("Decision", {
  id: CallId,
  orders: Schema.Array(
    Schema.Struct({
      symbol: Bounded(200),
      side: Bounded(20),
      type: Bounded(20),
      quantity: OptionalNumber,
      notional: OptionalNumber,
      limitPrice: OptionalNumber,
      stopPrice: OptionalNumber
    })
  ).pipe(Schema.maxItems(1_000)),
  cancels: Schema.Array(Schema.Int).pipe(Schema.maxItems(1_000)),
  logs: Schema.Array(Schema.Struct({ ts: Schema.Number, message: Bounded(2_000) })).pipe(
    Schema.maxItems(1_000)
  )
})
export type Decision = typeof Decision.Type

/** `onBar` threw: the deployment fails, saying this. */
export const Threw = Schema.TaggedStruct("Threw", { id: CallId, message: Bounded(4_000) })

/** Child → host. */
export const ChildMessage = Schema.Union(
  Loaded,
  LoadFailed,
  Log,
  Pong,
  Progress,
  Equity,
  Taken,
  Finished,
  Refused,
  LiveReady,
  Decision,
  Threw
)
export type ChildMessage = typeof ChildMessage.Type

export const decodeChildMessage = Schema.decodeUnknownEither(ChildMessage)
