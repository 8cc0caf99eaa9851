/**
 * A `/live` client's buffer, as plain data: forming bars replaced in place, closed bars and
 * replies all kept in order, the client closed with 4008 once the buffer is full, the sender
 * pausing while the socket holds too much, heartbeats only when nothing else was sent.
 */
import { CLOSE_TOO_SLOW } from "@quasar/domain"
import { describe, expect, it } from "vitest"
import {
  initialLiveClient,
  type LiveClientEvent,
  type LiveClientLimits,
  type LiveClientState,
  PAUSE_MILLIS,
  stepLiveClient
} from "../../src/live/LiveClientState"
import type { LiveUpdate } from "../../src/live/LiveHub"

const limits: LiveClientLimits = {
  clientBuffer: 4,
  socketBufferBytes: 1_000,
  maxSeriesPerClient: 2,
  heartbeatEveryMillis: 400
}

const bar = (key: string, ts: number, closed: boolean, close = 1): LiveUpdate => ({
  key,
  provider: "kraken",
  symbol: key,
  timeframe: "1m",
  bar: { ts, open: 1, high: 1, low: 1, close, volume: 1 },
  closed
})

/** Runs `events` from `state`; the final state and every output, in order. */
const run = (state: LiveClientState, ...events: ReadonlyArray<LiveClientEvent>) => {
  let s = state
  const outputs = []
  for (const event of events) {
    const step = stepLiveClient(s, event)
    s = step.state
    outputs.push(...step.outputs)
  }
  return { state: s, outputs }
}

const watchingAB = run(
  initialLiveClient(limits, 0),
  { _tag: "Watch", key: "A" },
  { _tag: "Watch", key: "B" }
).state
const updates = (...us: ReadonlyArray<LiveUpdate>): LiveClientEvent => ({ _tag: "Updates", batches: [us] })

describe("LiveClientState", () => {
  it("queues replies in order and wakes the sender", () => {
    const { state, outputs } = run(watchingAB, { _tag: "Reply", frame: "a" }, { _tag: "Reply", frame: "b" })
    expect(state.outbox).toEqual(["a", "b"])
    expect(outputs).toEqual([{ _tag: "Wake" }, { _tag: "Wake" }])
  })

  it("queues only the updates of watched series", () => {
    const { state } = run(watchingAB, updates(bar("A", 1, true), bar("C", 1, true), bar("B", 1, false)))
    expect(state.outbox.map((p) => typeof p !== "string" && p.key)).toEqual(["A", "B"])
  })

  it("replaces a waiting forming bar in its place, without waking the sender again", () => {
    const first = run(watchingAB, updates(bar("A", 1, false, 1), bar("B", 1, false)))
    const { state, outputs } = run(first.state, updates(bar("A", 1, false, 2)))
    expect(state.outbox).toEqual([bar("A", 1, false, 2), bar("B", 1, false)])
    expect(outputs).toEqual([])
  })

  it("keeps every closed bar, and a forming bar after a closed one is queued anew", () => {
    const { state } = run(
      watchingAB,
      updates(bar("A", 1, false), bar("A", 1, true), bar("A", 2, false, 1), bar("A", 2, false, 2))
    )
    expect(state.outbox).toEqual([bar("A", 1, false), bar("A", 1, true), bar("A", 2, false, 2)])
  })

  it("closes a client whose buffer is full with 4008 and a reason, once, and queues nothing more", () => {
    const full = run(watchingAB, updates(...[1, 2, 3, 4].map((ts) => bar("A", ts, true))))
    expect(full.state.closing).toBe(false)
    const over = run(full.state, updates(bar("A", 5, true), bar("A", 6, true)))
    expect(over.outputs).toEqual([
      {
        _tag: "Close",
        code: CLOSE_TOO_SLOW,
        reason: "too slow: over 4 messages waiting; read faster or watch fewer series",
        watching: 2
      }
    ])
    expect(over.state.closing).toBe(true)
    expect(over.state.outbox).toHaveLength(4)
    const after = run(over.state, { _tag: "Reply", frame: "late" }, updates(bar("A", 7, true)))
    expect(after.outputs).toEqual([])
    expect(after.state.outbox).toHaveLength(4)
  })

  it("still replaces a waiting forming bar when the buffer is full; a new one overflows it", () => {
    const full = run(watchingAB, updates(bar("A", 1, false), ...[1, 2, 3].map((ts) => bar("B", ts, true))))
    const replaced = run(full.state, updates(bar("A", 1, false, 9)))
    expect(replaced.state.closing).toBe(false)
    expect(replaced.state.outbox[0]).toEqual(bar("A", 1, false, 9))
    const over = run(replaced.state, updates(bar("B", 4, false)))
    expect(over.state.closing).toBe(true)
    expect(over.outputs.map((o) => o._tag)).toEqual(["Close"])
  })

  it("wakes and then closes when a batch fills the buffer part way", () => {
    const { outputs, state } = run(watchingAB, updates(...[1, 2, 3, 4, 5].map((ts) => bar("A", ts, true))))
    expect(outputs.map((o) => o._tag)).toEqual(["Wake", "Close"])
    expect(state.outbox).toHaveLength(4)
  })

  it("sends the latest bar of a series at subscribe whether or not it is watched yet", () => {
    const { state } = run(initialLiveClient(limits, 0), { _tag: "Latest", update: bar("Z", 1, false) })
    expect(state.outbox).toEqual([bar("Z", 1, false)])
  })

  it("refuses a series over the per-client limit; watching one again or unwatching is fine", () => {
    const over = run(watchingAB, { _tag: "Watch", key: "C" })
    expect(over.outputs).toEqual([
      { _tag: "Refuse", message: "at most 2 series per connection; unsubscribe some first" }
    ])
    expect(over.state.watching).toEqual(new Set(["A", "B"]))
    expect(run(watchingAB, { _tag: "Watch", key: "A" }).outputs).toEqual([])
    const freed = run(watchingAB, { _tag: "Unwatch", key: "A" }, { _tag: "Watch", key: "C" })
    expect(freed.outputs).toEqual([])
    expect(freed.state.watching).toEqual(new Set(["B", "C"]))
  })

  it("hands the sender everything waiting and starts over; a forming bar after that is queued anew", () => {
    const queued = run(watchingAB, updates(bar("A", 1, false), bar("B", 1, true)))
    const taken = run(queued.state, { _tag: "Take" })
    expect(taken.outputs).toEqual([{ _tag: "Send", pending: [bar("A", 1, false), bar("B", 1, true)] }])
    expect(taken.state.outbox).toEqual([])
    const again = run(taken.state, updates(bar("A", 1, false, 2)))
    expect(again.state.outbox).toEqual([bar("A", 1, false, 2)])
    expect(again.outputs).toEqual([{ _tag: "Wake" }])
  })

  it("halts the sender once the client is closing", () => {
    const closing = run(watchingAB, updates(...[1, 2, 3, 4, 5].map((ts) => bar("A", ts, true)))).state
    expect(run(closing, { _tag: "Take" }).outputs).toEqual([{ _tag: "Halt" }])
  })

  it("pauses the sender while the socket holds more than its bound, unless closing or unknown", () => {
    expect(run(watchingAB, { _tag: "Buffered", bytes: 1_001 }).outputs).toEqual([
      { _tag: "Pause", millis: PAUSE_MILLIS }
    ])
    expect(run(watchingAB, { _tag: "Buffered", bytes: 1_000 }).outputs).toEqual([])
    expect(run(watchingAB, { _tag: "Buffered", bytes: undefined }).outputs).toEqual([])
    const closing = run(watchingAB, updates(...[1, 2, 3, 4, 5].map((ts) => bar("A", ts, true)))).state
    expect(run(closing, { _tag: "Buffered", bytes: 5_000 }).outputs).toEqual([])
  })

  it("asks for a heartbeat only after half the heartbeat period without sending", () => {
    const sent = run(watchingAB, { _tag: "Sent", now: 1_000 }).state
    expect(run(sent, { _tag: "Tick", now: 1_199 }).outputs).toEqual([])
    expect(run(sent, { _tag: "Tick", now: 1_200 }).outputs).toEqual([{ _tag: "Heartbeat" }])
    expect(run(initialLiveClient(limits, 50), { _tag: "Tick", now: 249 }).outputs).toEqual([])
  })

  it("leaves the state it is given unchanged", () => {
    const before = run(watchingAB, updates(bar("A", 1, false))).state
    const snapshot = { outbox: [...before.outbox], formingAt: new Map(before.formingAt) }
    run(
      before,
      updates(bar("A", 1, false, 2), bar("B", 1, true)),
      { _tag: "Take" },
      { _tag: "Unwatch", key: "A" }
    )
    expect(before.outbox).toEqual(snapshot.outbox)
    expect(before.formingAt).toEqual(snapshot.formingAt)
    expect(before.watching).toEqual(new Set(["A", "B"]))
  })
})
