/**
 * The runner's bookkeeping as plain data: calls answered unless cancelled, history pages asked
 * for ahead, live pulls answered with what is buffered (or the end), one send per turn, the full
 * buffer that pauses the reader, and a provider settling after its stream is gone changing nothing.
 */
import { describe, expect, it } from "vitest"
import { LIVE_BUFFER } from "../../src/sandbox/protocol"
import {
  bufferFull,
  current,
  initial,
  type RunnerEvent,
  type RunnerOutput,
  type RunnerState,
  step
} from "../../src/sandbox/runnerState"

const settings = { apiKey: "k" }
const request = { symbol: "BTC" }

const run = (events: ReadonlyArray<RunnerEvent>, from: RunnerState = initial) =>
  events.reduce(
    (acc, event) => {
      const next = step(acc.state, event)
      return { state: next.state, outputs: [...acc.outputs, ...next.outputs] }
    },
    { state: from, outputs: [] as ReadonlyArray<RunnerOutput> }
  )

describe("runnerState", () => {
  it("answers a call once it settles, and fails it with what it threw", () => {
    const called = run([{ _tag: "Call", id: 1, settings }])
    expect(called.outputs).toEqual([{ _tag: "StartCall", id: 1, settings }])
    expect(called.state.calls.has(1)).toBe(true)
    const ok = step(called.state, { _tag: "CallSettled", id: 1, outcome: { ok: true, value: ["BTC"] } })
    expect(ok.outputs).toEqual([{ _tag: "SendResult", id: 1, value: ["BTC"] }])
    expect(ok.state.calls.size).toBe(0)
    const error = new Error("boom")
    const failed = step(called.state, { _tag: "CallSettled", id: 1, outcome: { ok: false, error } })
    expect(failed.outputs).toEqual([{ _tag: "SendFailed", id: 1, error }])
  })

  it("sends nothing for a call cancelled before it settles", () => {
    const cancelled = run([
      { _tag: "Call", id: 1, settings },
      { _tag: "Cancel", id: 1 },
      { _tag: "CallSettled", id: 1, outcome: { ok: true, value: [] } }
    ])
    expect(cancelled.outputs).toEqual([
      { _tag: "StartCall", id: 1, settings },
      { _tag: "AbortCall", id: 1 },
      { _tag: "SendCancelled", id: 1 }
    ])
  })

  it("acknowledges a cancel of something it does not know", () => {
    expect(step(initial, { _tag: "Cancel", id: 9 }).outputs).toEqual([{ _tag: "SendCancelled", id: 9 }])
  })

  it("fails a pull of a stream that is not open", () => {
    expect(step(initial, { _tag: "Pull", id: 3 }).outputs).toEqual([{ _tag: "SendNoStream", id: 3 }])
  })

  it("pages a history stream, asking for the next page ahead, until it is done", () => {
    const opened = run([{ _tag: "Open", id: 2, method: "history", settings, request }])
    expect(opened.outputs).toEqual([
      { _tag: "StartStream", id: 2, epoch: 0, method: "history", settings, request }
    ])
    const paged = run(
      [
        { _tag: "Pull", id: 2 },
        { _tag: "PageSettled", id: 2, epoch: 0, outcome: { _tag: "Value", value: { rows: 1 } } },
        { _tag: "Pull", id: 2 },
        { _tag: "PageSettled", id: 2, epoch: 0, outcome: { _tag: "Done" } }
      ],
      opened.state
    )
    expect(paged.outputs).toEqual([
      { _tag: "PullPage", id: 2, epoch: 0 },
      { _tag: "AskAhead", id: 2 },
      { _tag: "SendPage", id: 2, value: { rows: 1 } },
      { _tag: "PullPage", id: 2, epoch: 0 },
      { _tag: "Finish", id: 2 },
      { _tag: "SendDone", id: 2 }
    ])
    expect(paged.state.streams.size).toBe(0)
  })

  it("ends a history stream whose page threw or is not an iterator result", () => {
    const opened = run([{ _tag: "Open", id: 2, method: "history", settings, request }]).state
    const error = new Error("rate limited")
    expect(
      step(opened, { _tag: "PageSettled", id: 2, epoch: 0, outcome: { _tag: "Threw", error } }).outputs
    ).toEqual([
      { _tag: "Finish", id: 2 },
      { _tag: "SendFailed", id: 2, error }
    ])
    const bad = step(opened, { _tag: "PageSettled", id: 2, epoch: 0, outcome: { _tag: "NonObject" } })
    expect(bad.outputs).toEqual([
      { _tag: "Finish", id: 2 },
      { _tag: "SendFailed", id: 2, error: new Error("the iterator returned a non-object") }
    ])
    expect(bad.state.streams.has(2)).toBe(false)
  })

  it("ignores a page that settles after its stream was cancelled, or reopened", () => {
    const cancelled = run([
      { _tag: "Open", id: 2, method: "history", settings, request },
      { _tag: "Pull", id: 2 },
      { _tag: "Cancel", id: 2 }
    ])
    expect(cancelled.outputs.at(-2)).toEqual({ _tag: "CloseStream", id: 2 })
    expect(
      step(cancelled.state, { _tag: "PageSettled", id: 2, epoch: 0, outcome: { _tag: "Done" } }).outputs
    ).toEqual([])
    // The same id opened again is a new stream: the old one's page is not its own.
    const reopened = step(cancelled.state, { _tag: "Open", id: 2, method: "history", settings, request })
    expect(current(reopened.state, 2, 0)).toBeUndefined()
    expect(current(reopened.state, 2, 1)?.kind).toBe("history")
    expect(
      step(reopened.state, { _tag: "PageSettled", id: 2, epoch: 0, outcome: { _tag: "Done" } }).outputs
    ).toEqual([])
  })

  it("answers a live pull with what is buffered, at once or at the end of the turn", () => {
    const opened = run([{ _tag: "Open", id: 4, method: "live", settings, request }])
    expect(opened.outputs).toEqual([
      { _tag: "StartStream", id: 4, epoch: 0, method: "live", settings, request }
    ])
    // Buffered before the pull: the pull takes it immediately.
    const ready = run(
      [
        { _tag: "LiveRead", id: 4, epoch: 0, buffered: 1 },
        { _tag: "LiveRead", id: 4, epoch: 0, buffered: 2 },
        { _tag: "Pull", id: 4 }
      ],
      opened.state
    )
    expect(ready.outputs).toEqual([{ _tag: "SendItems", id: 4 }])
    // A pull that waits: the first read schedules one send, the next reads join it.
    const waited = run(
      [
        { _tag: "Pull", id: 4 },
        { _tag: "LiveRead", id: 4, epoch: 0, buffered: 1 },
        { _tag: "LiveRead", id: 4, epoch: 0, buffered: 2 },
        { _tag: "Delivery", id: 4, epoch: 0 },
        { _tag: "LiveRead", id: 4, epoch: 0, buffered: 1 }
      ],
      ready.state
    )
    expect(waited.outputs).toEqual([
      { _tag: "ScheduleDelivery", id: 4, epoch: 0 },
      { _tag: "SendItems", id: 4 }
    ])
    const stream = waited.state.streams.get(4)
    expect(stream).toMatchObject({ kind: "live", waiting: false, scheduled: false, buffered: 1 })
  })

  it("pauses the live reader on a full buffer until a send empties it", () => {
    const full = run([
      { _tag: "Open", id: 4, method: "live", settings, request },
      { _tag: "LiveRead", id: 4, epoch: 0, buffered: LIVE_BUFFER - 1 }
    ])
    expect(bufferFull(full.state, 4)).toBe(false)
    const fuller = step(full.state, { _tag: "LiveRead", id: 4, epoch: 0, buffered: LIVE_BUFFER })
    expect(bufferFull(fuller.state, 4)).toBe(true)
    const sent = step(fuller.state, { _tag: "Pull", id: 4 })
    expect(sent.outputs).toEqual([{ _tag: "SendItems", id: 4 }])
    expect(bufferFull(sent.state, 4)).toBe(false)
  })

  it("reports a live stream's end only after everything buffered is sent", () => {
    const ended = run([
      { _tag: "Open", id: 4, method: "live", settings, request },
      { _tag: "LiveRead", id: 4, epoch: 0, buffered: 1 },
      { _tag: "LiveEnded", id: 4, epoch: 0, end: {} }
    ])
    expect(ended.outputs).toEqual([
      { _tag: "StartStream", id: 4, epoch: 0, method: "live", settings, request }
    ])
    const drained = run(
      [
        { _tag: "Pull", id: 4 },
        { _tag: "Pull", id: 4 }
      ],
      ended.state
    )
    expect(drained.outputs).toEqual([
      { _tag: "SendItems", id: 4 },
      { _tag: "Finish", id: 4 },
      { _tag: "SendDone", id: 4 }
    ])
    expect(drained.state.streams.size).toBe(0)
    // A waiting pull hears of a failure as soon as it happens.
    const error = new Error("socket closed")
    const failed = run([
      { _tag: "Open", id: 5, method: "live", settings, request },
      { _tag: "Pull", id: 5 },
      { _tag: "LiveEnded", id: 5, epoch: 0, end: { error } }
    ])
    expect(failed.outputs.slice(1)).toEqual([
      { _tag: "Finish", id: 5 },
      { _tag: "SendFailed", id: 5, error }
    ])
  })

  it("changes nothing for a live stream's reads, end or send after it is cancelled", () => {
    const cancelled = run([
      { _tag: "Open", id: 4, method: "live", settings, request },
      { _tag: "Pull", id: 4 },
      { _tag: "Cancel", id: 4 }
    ])
    expect(cancelled.outputs.slice(1)).toEqual([
      { _tag: "CloseStream", id: 4 },
      { _tag: "SendCancelled", id: 4 }
    ])
    const after = run(
      [
        { _tag: "LiveRead", id: 4, epoch: 0, buffered: 1 },
        { _tag: "Delivery", id: 4, epoch: 0 },
        { _tag: "LiveEnded", id: 4, epoch: 0, end: {} }
      ],
      cancelled.state
    )
    expect(after.outputs).toEqual([])
    expect(after.state).toEqual(cancelled.state)
  })
})
