/**
 * The runner's bookkeeping of the host's calls as a pure reducer (runs in the child, bundled
 * without Effect): which `listAssets` calls and streams are open, and for a live stream whether
 * the host waits on a pull, whether a send is scheduled, how much is buffered and how the
 * provider's iterator ended. runner.ts owns the provider's iterators, abort controllers and the
 * live buffer, feeds what happens to them in as events and performs the outputs.
 *
 * A stream is known by its id and the `epoch` it was opened in: a provider's promise settling
 * after its stream was cancelled or finished carries a stale epoch and changes nothing.
 */
import { type CallSettings, LIVE_BUFFER } from "./protocol"

interface HistoryStream {
  readonly kind: "history"
  readonly epoch: number
}

interface LiveStream {
  readonly kind: "live"
  readonly epoch: number
  /** The host pulled and got nothing yet. */
  readonly waiting: boolean
  /** A send is scheduled for the end of the current turn (so a frame's events go together). */
  readonly scheduled: boolean
  /** Events in the live buffer (its size after the last read, none after a send). */
  readonly buffered: number
  /** How the provider's iterator ended (done, or the error it threw), once it has. */
  readonly end?: { readonly error?: unknown } | undefined
}

export type StreamState = HistoryStream | LiveStream

export interface RunnerState {
  /** `listAssets` calls in flight. */
  readonly calls: ReadonlySet<number>
  readonly streams: ReadonlyMap<number, StreamState>
  /** Streams opened so far: the next one's epoch. */
  readonly opened: number
}

/** How a history stream's next page came out. */
export type PageOutcome =
  | { readonly _tag: "Value"; readonly value: unknown }
  | { readonly _tag: "Done" }
  | { readonly _tag: "NonObject" }
  | { readonly _tag: "Threw"; readonly error: unknown }

export type RunnerEvent =
  | { readonly _tag: "Call"; readonly id: number; readonly settings: CallSettings }
  | {
      readonly _tag: "CallSettled"
      readonly id: number
      readonly outcome:
        | { readonly ok: true; readonly value: unknown }
        | { readonly ok: false; readonly error: unknown }
    }
  | {
      readonly _tag: "Open"
      readonly id: number
      readonly method: "history" | "live"
      readonly settings: CallSettings
      readonly request: unknown
    }
  | { readonly _tag: "Pull"; readonly id: number }
  | { readonly _tag: "Cancel"; readonly id: number }
  | {
      readonly _tag: "PageSettled"
      readonly id: number
      readonly epoch: number
      readonly outcome: PageOutcome
    }
  /** The live reader put an event in the buffer, which now holds `buffered`. */
  | { readonly _tag: "LiveRead"; readonly id: number; readonly epoch: number; readonly buffered: number }
  /** The provider's live iterator ended: done, or with `error`. */
  | {
      readonly _tag: "LiveEnded"
      readonly id: number
      readonly epoch: number
      readonly end: { readonly error?: unknown }
    }
  /** The scheduled send's turn came. */
  | { readonly _tag: "Delivery"; readonly id: number; readonly epoch: number }

export type RunnerOutput =
  /** Run the provider's `listAssets` for call `id`. */
  | { readonly _tag: "StartCall"; readonly id: number; readonly settings: CallSettings }
  | { readonly _tag: "AbortCall"; readonly id: number }
  /** Open the provider's iterator (and, live, start reading it). */
  | {
      readonly _tag: "StartStream"
      readonly id: number
      readonly epoch: number
      readonly method: "history" | "live"
      readonly settings: CallSettings
      readonly request: unknown
    }
  /** Take the page asked for ahead (or ask for one) and report it as PageSettled. */
  | { readonly _tag: "PullPage"; readonly id: number; readonly epoch: number }
  /** Ask for the next page ahead while the host handles this one. */
  | { readonly _tag: "AskAhead"; readonly id: number }
  /** Send a result (`Result`, a page as `Item`): one that cannot cross the channel is a failure. */
  | { readonly _tag: "SendResult"; readonly id: number; readonly value: unknown }
  | { readonly _tag: "SendPage"; readonly id: number; readonly value: unknown }
  /** Send everything buffered as `Items`, then let a reader paused on a full buffer go on. */
  | { readonly _tag: "SendItems"; readonly id: number }
  | { readonly _tag: "ScheduleDelivery"; readonly id: number; readonly epoch: number }
  | { readonly _tag: "SendDone"; readonly id: number }
  | { readonly _tag: "SendFailed"; readonly id: number; readonly error: unknown }
  | { readonly _tag: "SendNoStream"; readonly id: number }
  | { readonly _tag: "SendCancelled"; readonly id: number }
  /** The stream is over: abort its signal. */
  | { readonly _tag: "Finish"; readonly id: number }
  /** The host cancelled the stream: abort it, free a paused reader, let the generator clean up. */
  | { readonly _tag: "CloseStream"; readonly id: number }

export interface Step {
  readonly state: RunnerState
  readonly outputs: ReadonlyArray<RunnerOutput>
}

export const initial: RunnerState = { calls: new Set(), streams: new Map(), opened: 0 }

/** The stream `id` if it is still the one opened in `epoch`. */
export const current = (state: RunnerState, id: number, epoch: number): StreamState | undefined => {
  const stream = state.streams.get(id)
  return stream?.epoch === epoch ? stream : undefined
}

/** Whether the live reader of `id` must wait for a send before reading on. */
export const bufferFull = (state: RunnerState, id: number): boolean => {
  const stream = state.streams.get(id)
  return stream?.kind === "live" && stream.buffered >= LIVE_BUFFER
}

const withStream = (state: RunnerState, id: number, stream: StreamState): RunnerState => {
  const streams = new Map(state.streams)
  streams.set(id, stream)
  return { ...state, streams }
}

const withoutStream = (state: RunnerState, id: number): RunnerState => {
  if (!state.streams.has(id)) return state
  const streams = new Map(state.streams)
  streams.delete(id)
  return { ...state, streams }
}

const withoutCall = (state: RunnerState, id: number): RunnerState => {
  const calls = new Set(state.calls)
  calls.delete(id)
  return { ...state, calls }
}

/** Answers a waiting pull of a live stream, if there is anything to answer with. */
const deliver = (state: RunnerState, id: number, stream: LiveStream): Step => {
  if (!stream.waiting) return { state: withStream(state, id, stream), outputs: [] }
  if (stream.buffered > 0)
    return {
      state: withStream(state, id, { ...stream, waiting: false, buffered: 0 }),
      outputs: [{ _tag: "SendItems", id }]
    }
  if (stream.end)
    return {
      state: withoutStream(state, id),
      outputs: [
        { _tag: "Finish", id },
        "error" in stream.end ? { _tag: "SendFailed", id, error: stream.end.error } : { _tag: "SendDone", id }
      ]
    }
  return { state: withStream(state, id, stream), outputs: [] }
}

const settlePage = (state: RunnerState, id: number, outcome: PageOutcome): Step => {
  switch (outcome._tag) {
    case "Value":
      return {
        state,
        outputs: [
          { _tag: "AskAhead", id },
          { _tag: "SendPage", id, value: outcome.value }
        ]
      }
    case "Done":
      return {
        state: withoutStream(state, id),
        outputs: [
          { _tag: "Finish", id },
          { _tag: "SendDone", id }
        ]
      }
    case "NonObject":
      return {
        state: withoutStream(state, id),
        outputs: [
          { _tag: "Finish", id },
          { _tag: "SendFailed", id, error: new Error("the iterator returned a non-object") }
        ]
      }
    case "Threw":
      return {
        state: withoutStream(state, id),
        outputs: [
          { _tag: "Finish", id },
          { _tag: "SendFailed", id, error: outcome.error }
        ]
      }
  }
}

export const step = (state: RunnerState, event: RunnerEvent): Step => {
  switch (event._tag) {
    case "Call": {
      const calls = new Set(state.calls)
      calls.add(event.id)
      return {
        state: { ...state, calls },
        outputs: [{ _tag: "StartCall", id: event.id, settings: event.settings }]
      }
    }
    case "CallSettled": {
      // A cancelled call's result is not sent: the host has stopped waiting for it.
      if (!state.calls.has(event.id)) return { state, outputs: [] }
      const { id, outcome } = event
      return {
        state: withoutCall(state, id),
        outputs: [
          outcome.ok
            ? { _tag: "SendResult", id, value: outcome.value }
            : { _tag: "SendFailed", id, error: outcome.error }
        ]
      }
    }
    case "Open": {
      const epoch = state.opened
      const stream: StreamState =
        event.method === "history"
          ? { kind: "history", epoch }
          : { kind: "live", epoch, waiting: false, scheduled: false, buffered: 0 }
      return {
        state: { ...withStream(state, event.id, stream), opened: epoch + 1 },
        outputs: [
          {
            _tag: "StartStream",
            id: event.id,
            epoch,
            method: event.method,
            settings: event.settings,
            request: event.request
          }
        ]
      }
    }
    case "Pull": {
      const stream = state.streams.get(event.id)
      if (!stream) return { state, outputs: [{ _tag: "SendNoStream", id: event.id }] }
      if (stream.kind === "history")
        return { state, outputs: [{ _tag: "PullPage", id: event.id, epoch: stream.epoch }] }
      return deliver(state, event.id, { ...stream, waiting: true })
    }
    case "Cancel": {
      const { id } = event
      const outputs: Array<RunnerOutput> = []
      let next = state
      if (state.calls.has(id)) {
        outputs.push({ _tag: "AbortCall", id })
        next = withoutCall(next, id)
      }
      if (state.streams.has(id)) {
        outputs.push({ _tag: "CloseStream", id })
        next = withoutStream(next, id)
      }
      outputs.push({ _tag: "SendCancelled", id })
      return { state: next, outputs }
    }
    case "PageSettled":
      if (current(state, event.id, event.epoch)?.kind !== "history") return { state, outputs: [] }
      return settlePage(state, event.id, event.outcome)
    case "LiveRead": {
      const stream = current(state, event.id, event.epoch)
      if (stream?.kind !== "live") return { state, outputs: [] }
      const schedule = stream.waiting && !stream.scheduled
      return {
        state: withStream(state, event.id, {
          ...stream,
          buffered: event.buffered,
          scheduled: stream.scheduled || schedule
        }),
        outputs: schedule ? [{ _tag: "ScheduleDelivery", id: event.id, epoch: event.epoch }] : []
      }
    }
    case "LiveEnded": {
      const stream = current(state, event.id, event.epoch)
      if (stream?.kind !== "live") return { state, outputs: [] }
      return deliver(state, event.id, { ...stream, end: event.end })
    }
    case "Delivery": {
      const stream = current(state, event.id, event.epoch)
      if (stream?.kind !== "live") return { state, outputs: [] }
      return deliver(state, event.id, { ...stream, scheduled: false })
    }
  }
}
