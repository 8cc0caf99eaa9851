/**
 * What Trader and a strategy's sandbox child exchange, on top of the messages every sandbox shares
 * (`@quasar/sandbox`: verdict, log, ping, cancel). One child runs one backtest: the host sends
 * `Run` with the inputs and each symbol's bar count, then the bars in `Bars` chunks as columns
 * (Float64Arrays, which the IPC channel's structured clone copies as binary, not as one object
 * per bar), each acknowledged with `Taken` before the next goes, and finally `Start`. Chunks keep
 * a million bars from being one message that both sides hold whole, serialized, at once; the
 * child copies each into columns it allocated at the announced length. The child answers `Start`
 * with `Progress` now and then and finally `Finished` (the result) or `Refused` (inputs that
 * cannot run). Every child message is decoded by the host; the result is validated against the
 * domain schema.
 */
import { CallId, type ControlMessage, LoadFailed, Log, loadedMessage, Pong } from "@quasar/sandbox"
import { Schema } from "effect"
import type { BarColumns } from "../engine/types"

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

/** Host → child. */
export type HostMessage =
  | {
      readonly _tag: "Run"
      readonly id: number
      readonly inputs: RunInputs
      /** Per universe key, how many bars its `Bars` chunks bring. */
      readonly lengths: ReadonlyArray<readonly [string, number]>
      /** Bar times between two `Progress` messages. */
      readonly every: number
    }
  | {
      /** Bars `offset`… of `key`, in order after the previous chunk of that key; answered by `Taken`. */
      readonly _tag: "Bars"
      readonly id: number
      readonly key: string
      readonly offset: number
      readonly columns: BarColumns
    }
  | {
      /** Every announced bar has been sent: the run `id` starts. */
      readonly _tag: "Start"
      readonly id: number
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

/** A `Bars` chunk is copied into the run's columns: the host may send the next. */
export const Taken = Schema.TaggedStruct("Taken", { id: CallId })

/** The run's result, validated by the host against the domain `BacktestResult`. */
export const Finished = Schema.TaggedStruct("Finished", { id: CallId, result: Schema.Unknown })

/** The inputs cannot run (prepareBacktest's problems): nothing ran. */
export const Refused = Schema.TaggedStruct("Refused", {
  id: CallId,
  problems: Schema.Array(Schema.String.pipe(Schema.maxLength(2_000))).pipe(Schema.maxItems(100))
})

/** Child → host. */
export const ChildMessage = Schema.Union(Loaded, LoadFailed, Log, Pong, Progress, Taken, Finished, Refused)
export type ChildMessage = typeof ChildMessage.Type

export const decodeChildMessage = Schema.decodeUnknownEither(ChildMessage)
