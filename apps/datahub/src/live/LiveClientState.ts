/**
 * One `/live` client's buffer as a pure reducer: the series it watches, the messages waiting for
 * its socket, and when it is too slow. LiveClient drives it and performs what it asks for.
 *
 * A forming bar is a state: one still waiting is replaced, in its place, by a newer version of
 * the same bar, so a client reading a little slower than a busy feed gets every series' newest
 * state instead of falling behind. Closed bars (and replies) are all kept, in order; once
 * `clientBuffer` messages wait the client is closed with CLOSE_TOO_SLOW and a reason.
 *
 * A step copies the collections it changes, once: updates come in as the hub's batches, one step
 * per batch, so a copy is paid per batch, not per bar.
 */
import { CLOSE_TOO_SLOW } from "@quasar/domain"
import type { LiveUpdate } from "./LiveHub"

/** A frame ready to send, or a bar encoded only when sent (it may be replaced before). */
export type Pending = string | LiveUpdate

export interface LiveClientLimits {
  /** Messages that may wait for the socket before the client is closed as too slow. */
  readonly clientBuffer: number
  /** Unsent bytes in the socket above which the sender pauses. */
  readonly socketBufferBytes: number
  readonly maxSeriesPerClient: number
  /** Idle clients get a heartbeat this often (milliseconds). */
  readonly heartbeatEveryMillis: number
}

export interface LiveClientState {
  readonly limits: LiveClientLimits
  readonly outbox: ReadonlyArray<Pending>
  /** Series key → index in `outbox` of its forming bar waiting to be sent. */
  readonly formingAt: ReadonlyMap<string, number>
  readonly watching: ReadonlySet<string>
  /** Closed as too slow: nothing more is queued or sent. */
  readonly closing: boolean
  readonly lastSentAt: number
}

export type LiveClientEvent =
  /** A frame for this client (a reply, an error, a heartbeat). */
  | { readonly _tag: "Reply"; readonly frame: string }
  /** A series' current bar, sent at once when it is subscribed. */
  | { readonly _tag: "Latest"; readonly update: LiveUpdate }
  /** The hub's batches: the updates of watched series are queued. */
  | { readonly _tag: "Updates"; readonly batches: Iterable<ReadonlyArray<LiveUpdate>> }
  | { readonly _tag: "Watch"; readonly key: string }
  | { readonly _tag: "Unwatch"; readonly key: string }
  /** The sender takes everything waiting. */
  | { readonly _tag: "Take" }
  /** The sender wrote what it took. */
  | { readonly _tag: "Sent"; readonly now: number }
  /** The socket's unsent bytes after a write; undefined: not known. */
  | { readonly _tag: "Buffered"; readonly bytes: number | undefined }
  /** The heartbeat clock. */
  | { readonly _tag: "Tick"; readonly now: number }

export type LiveClientOutput =
  /** The sender has something to send. */
  | { readonly _tag: "Wake" }
  | { readonly _tag: "Close"; readonly code: number; readonly reason: string; readonly watching: number }
  /** Send these, in order. */
  | { readonly _tag: "Send"; readonly pending: ReadonlyArray<Pending> }
  /** The client is closing: the sender stops for good. */
  | { readonly _tag: "Halt" }
  /** Wait this long, then report the socket's unsent bytes again. */
  | { readonly _tag: "Pause"; readonly millis: number }
  | { readonly _tag: "Heartbeat" }
  /** The event is refused: answer the client with this error. */
  | { readonly _tag: "Refuse"; readonly message: string }

export interface LiveClientStep {
  readonly state: LiveClientState
  readonly outputs: ReadonlyArray<LiveClientOutput>
}

/** How long the sender waits before looking at a full socket again. */
export const PAUSE_MILLIS = 10

export const initialLiveClient = (limits: LiveClientLimits, now: number): LiveClientState => ({
  limits,
  outbox: [],
  formingAt: new Map(),
  watching: new Set(),
  closing: false,
  lastSentAt: now
})

const WAKE: LiveClientOutput = { _tag: "Wake" }
const NOTHING: ReadonlyArray<LiveClientOutput> = []

/** The outbox and its index, copied once per step on first change. */
interface Draft {
  outbox: Array<Pending>
  formingAt: Map<string, number>
  woken: boolean
}

/** Queues `pending` in `draft`; false when the buffer is full (the client is too slow). */
const enqueue = (draft: Draft, limit: number, pending: Pending): boolean => {
  if (typeof pending !== "string") {
    if (!pending.closed) {
      const at = draft.formingAt.get(pending.key)
      if (at !== undefined) {
        draft.outbox[at] = pending
        return true
      }
      if (draft.outbox.length >= limit) return false
      draft.formingAt.set(pending.key, draft.outbox.length)
    } else draft.formingAt.delete(pending.key)
  }
  if (draft.outbox.length >= limit) return false
  draft.outbox.push(pending)
  draft.woken = true
  return true
}

const queueAll = (state: LiveClientState, items: Iterable<Pending>): LiveClientStep => {
  if (state.closing) return { state, outputs: NOTHING }
  let draft: Draft | undefined
  let full = false
  for (const item of items) {
    draft ??= { outbox: [...state.outbox], formingAt: new Map(state.formingAt), woken: false }
    if (!enqueue(draft, state.limits.clientBuffer, item)) {
      full = true
      break
    }
  }
  if (draft === undefined) return { state, outputs: NOTHING }
  const next = { ...state, outbox: draft.outbox, formingAt: draft.formingAt }
  const outputs: Array<LiveClientOutput> = draft.woken ? [WAKE] : []
  if (!full) return { state: next, outputs }
  outputs.push({
    _tag: "Close",
    code: CLOSE_TOO_SLOW,
    reason: `too slow: over ${state.limits.clientBuffer} messages waiting; read faster or watch fewer series`,
    watching: state.watching.size
  })
  return { state: { ...next, closing: true }, outputs }
}

function* watched(watching: ReadonlySet<string>, batches: Iterable<ReadonlyArray<LiveUpdate>>) {
  for (const batch of batches) for (const u of batch) if (watching.has(u.key)) yield u
}

export const stepLiveClient = (state: LiveClientState, event: LiveClientEvent): LiveClientStep => {
  switch (event._tag) {
    case "Reply":
      return queueAll(state, [event.frame])
    case "Latest":
      return queueAll(state, [event.update])
    case "Updates":
      return queueAll(state, watched(state.watching, event.batches))
    case "Watch": {
      if (state.watching.has(event.key)) return { state, outputs: NOTHING }
      if (state.watching.size >= state.limits.maxSeriesPerClient)
        return {
          state,
          outputs: [
            {
              _tag: "Refuse",
              message: `at most ${state.limits.maxSeriesPerClient} series per connection; unsubscribe some first`
            }
          ]
        }
      return { state: { ...state, watching: new Set(state.watching).add(event.key) }, outputs: NOTHING }
    }
    case "Unwatch": {
      if (!state.watching.has(event.key)) return { state, outputs: NOTHING }
      const watching = new Set(state.watching)
      watching.delete(event.key)
      return { state: { ...state, watching }, outputs: NOTHING }
    }
    case "Take":
      if (state.closing) return { state, outputs: [{ _tag: "Halt" }] }
      return {
        state: { ...state, outbox: [], formingAt: new Map() },
        outputs: [{ _tag: "Send", pending: state.outbox }]
      }
    case "Sent":
      return { state: { ...state, lastSentAt: event.now }, outputs: NOTHING }
    case "Buffered":
      return event.bytes !== undefined && event.bytes > state.limits.socketBufferBytes && !state.closing
        ? { state, outputs: [{ _tag: "Pause", millis: PAUSE_MILLIS }] }
        : { state, outputs: NOTHING }
    case "Tick":
      return event.now - state.lastSentAt >= state.limits.heartbeatEveryMillis / 2
        ? { state, outputs: [{ _tag: "Heartbeat" }] }
        : { state, outputs: NOTHING }
  }
}
