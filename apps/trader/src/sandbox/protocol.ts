/**
 * What Trader and a strategy's sandbox child exchange, on top of the messages every sandbox shares
 * (`@quasar/sandbox`: verdict, log, ping, cancel). One child runs one backtest: the host sends
 * `Run` with the inputs and the bars as columns (Float64Arrays, which the IPC channel's structured
 * clone copies as binary, not as one object per bar); the child answers with `Progress` now and
 * then and finally `Finished` (the result) or `Refused` (inputs that cannot run). Every child
 * message is decoded by the host; the result is validated against the domain schema.
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
      /** Per universe key, the columns of its bars. */
      readonly bars: ReadonlyArray<readonly [string, BarColumns]>
      /** Bar times between two `Progress` messages. */
      readonly every: number
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

/** The run's result, validated by the host against the domain `BacktestResult`. */
export const Finished = Schema.TaggedStruct("Finished", { id: CallId, result: Schema.Unknown })

/** The inputs cannot run (prepareBacktest's problems): nothing ran. */
export const Refused = Schema.TaggedStruct("Refused", {
  id: CallId,
  problems: Schema.Array(Schema.String.pipe(Schema.maxLength(2_000))).pipe(Schema.maxItems(100))
})

/** Child → host. */
export const ChildMessage = Schema.Union(Loaded, LoadFailed, Log, Pong, Progress, Finished, Refused)
export type ChildMessage = typeof ChildMessage.Type

export const decodeChildMessage = Schema.decodeUnknownEither(ChildMessage)
