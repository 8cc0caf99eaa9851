import { describe, expect, it } from "@effect/vitest"
import {
  completion,
  initialState,
  type RunEvent,
  type RunSetup,
  type RunState,
  retries,
  step,
  type TimedBar
} from "../../src/collect/CollectionRunState"

const M = 60_000
const T0 = Date.UTC(2025, 5, 11, 10)
const at = (i: number) => T0 + i * M
const bars = (...indexes: ReadonlyArray<number>): ReadonlyArray<TimedBar> =>
  indexes.map((i) => ({ ts: at(i) }))

const setup = (over: Partial<RunSetup> = {}): RunSetup => ({
  timeframe: "1m",
  forward: true,
  from: at(0),
  to: at(10),
  until: at(20),
  backfillFrom: at(-10),
  subscriptionStatus: "backfilling",
  ...over
})

/** Applies events in order, returning the final state and every output. */
const run = (state: RunState, events: ReadonlyArray<RunEvent<TimedBar>>) =>
  events.reduce(
    (acc, event) => {
      const next = step(acc.state, event)
      return { state: next.state, outputs: [...acc.outputs, ...next.outputs] }
    },
    { state, outputs: [] as Array<unknown> }
  )

/** A page written and confirmed with nothing missing. */
const confirmed = (state: RunState, ts: ReadonlyArray<TimedBar>) =>
  run(state, [
    { _tag: "Written", bars: ts },
    { _tag: "Checked", sent: ts, missing: [] },
    { _tag: "HolesRecorded" }
  ])

describe("collection run state", () => {
  it("starts at the plan's start, one bar before it as the last seen bar", () => {
    const s = initialState(setup(), null)
    expect(s).toMatchObject({ cursor: at(0), lastSeen: at(-1), rows: 0, pages: 0, attempts: 0 })
  })

  it("a forward run continues from the newest stored bar before its start; a gap run does not", () => {
    expect(initialState(setup(), at(-5)).lastSeen).toBe(at(-5))
    // A stored bar at or after the start says nothing about holes before the first answered bar.
    expect(initialState(setup(), at(0)).lastSeen).toBe(at(-1))
    expect(initialState(setup({ forward: false }), at(-5)).lastSeen).toBe(at(-1))
  })

  it("each attempt asks from the cursor and counts as a retry after the first", () => {
    let s = initialState(setup(), null)
    const first = step(s, { _tag: "AttemptStarted" })
    expect(first.outputs).toEqual([{ _tag: "Request", from: at(0), to: at(10) }])
    s = first.state
    expect(retries(s)).toBe(0)
    s = run(s, [{ _tag: "PageQueued", bars: bars(0, 1, 2) }]).state
    s = confirmed(s, bars(0, 1, 2)).state
    const again = step(s, { _tag: "AttemptStarted" })
    expect(again.outputs).toEqual([{ _tag: "Request", from: at(3), to: at(10) }])
    expect(again.state.queuedFrom).toBe(at(3))
    expect(retries(again.state)).toBe(1)
  })

  it("queues only bars not already handed to the writer, counting each group as a page", () => {
    let s = step(initialState(setup(), null), { _tag: "AttemptStarted" }).state
    const a = step(s, { _tag: "PageQueued", bars: bars(0, 1, 2) })
    expect(a.outputs).toEqual([{ _tag: "Write", bars: bars(0, 1, 2) }])
    s = a.state
    // The provider repeats the boundary bar at the start of the next page.
    const b = step(s, { _tag: "PageQueued", bars: bars(2, 3) })
    expect(b.outputs).toEqual([{ _tag: "Write", bars: bars(3) }])
    expect(b.state.queuedFrom).toBe(at(4))
    // An empty page is still a page and moves nothing.
    const c = step(b.state, { _tag: "PageQueued", bars: [] })
    expect(c.outputs).toEqual([{ _tag: "Write", bars: [] }])
    expect(c.state).toMatchObject({ pages: 3, queuedFrom: at(4) })
  })

  it("checks only bars at or after the cursor, and nothing for an empty write", () => {
    const s = { ...initialState(setup(), null), cursor: at(3) }
    expect(step(s, { _tag: "Written", bars: [] }).outputs).toEqual([])
    expect(step(s, { _tag: "Written", bars: bars(3, 4) }).outputs).toEqual([
      { _tag: "CheckStored", bars: bars(3, 4) }
    ])
    // Rewritten after a provider retry: the recorded part is not checked or counted again.
    expect(step(s, { _tag: "Written", bars: bars(1, 2, 3) }).outputs).toEqual([
      { _tag: "CheckStored", bars: bars(3) }
    ])
    expect(step(s, { _tag: "Written", bars: bars(1, 2) }).outputs).toEqual([])
  })

  it("records the holes the provider skipped, then advances and records progress", () => {
    const s = initialState(setup(), at(-3))
    const checked = step(s, { _tag: "Checked", sent: bars(0, 1, 4), missing: [] })
    // Before the page: [-2, 0) after the stored bar at -3; inside it: [2, 4).
    expect(checked.outputs).toEqual([
      {
        _tag: "RecordEmpty",
        ranges: [
          { from: at(-2), to: at(0) },
          { from: at(2), to: at(4) }
        ]
      }
    ])
    // Nothing advances until the holes are recorded.
    expect(checked.state).toMatchObject({ cursor: at(0), rows: 0, lastSeen: at(-3) })
    const recorded = step(checked.state, { _tag: "HolesRecorded" })
    expect(recorded.state).toMatchObject({ cursor: at(5), rows: 3, lastSeen: at(4), pending: null })
    expect(recorded.outputs).toEqual([
      {
        _tag: "RecordProgress",
        progress: { collectedUntil: at(5), lastBarAt: at(4), progress: 50, status: "backfilling" }
      }
    ])
  })

  it("keeps a current subscription current at 100 %", () => {
    const s = initialState(setup({ subscriptionStatus: "current" }), null)
    const { outputs } = confirmed(s, bars(0))
    expect(outputs).toContainEqual({
      _tag: "RecordProgress",
      progress: { collectedUntil: at(1), lastBarAt: at(0), progress: 100, status: "current" }
    })
  })

  it("a gap run records only its newest bar", () => {
    const s = initialState(setup({ forward: false }), null)
    const { outputs, state } = confirmed(s, bars(0, 1))
    expect(outputs).toEqual([
      { _tag: "CheckStored", bars: bars(0, 1) },
      { _tag: "RecordEmpty", ranges: [] },
      { _tag: "RecordLastBar", lastBarAt: at(1) }
    ])
    expect(state.cursor).toBe(at(2))
  })

  it("bars missing after a commit: advances to the first missing one, then fails", () => {
    const s = { ...initialState(setup(), null), rows: 7 }
    const checked = step(s, { _tag: "Checked", sent: bars(0, 1, 2, 3), missing: [at(2), at(3)] })
    const recorded = step(checked.state, { _tag: "HolesRecorded" })
    expect(recorded.state).toMatchObject({ cursor: at(2), rows: 9 })
    expect(recorded.outputs).toHaveLength(2)
    expect(recorded.outputs[0]).toMatchObject({ _tag: "RecordProgress" })
    expect(recorded.outputs[1]).toEqual({
      _tag: "NotStored",
      missing: 2,
      message: `2 of 4 bars written were not in the database after their commit (the first at ${new Date(at(2)).toISOString()}); the run counts only the 9 confirmed bars and the next run writes again from ${new Date(at(2)).toISOString()}`
    })
  })

  it("the first bar missing: nothing is recorded and the run fails at once", () => {
    const s = initialState(setup(), null)
    const checked = step(s, { _tag: "Checked", sent: bars(0, 1), missing: [at(0)] })
    expect(checked.state).toBe(s)
    expect(checked.outputs).toEqual([expect.objectContaining({ _tag: "NotStored", missing: 1 })])
    expect(step(s, { _tag: "Checked", sent: bars(0), missing: [] }).outputs).toHaveLength(1)
  })

  it("a stray HolesRecorded changes nothing", () => {
    const s = initialState(setup(), null)
    expect(step(s, { _tag: "HolesRecorded" })).toEqual({ state: s, outputs: [] })
  })

  it("completion: forward runs record progress up to `to`, current once `until` is reached", () => {
    expect(completion(initialState(setup(), null))).toEqual({
      _tag: "RecordProgress",
      progress: { collectedUntil: at(10), lastBarAt: null, progress: 66.67, status: "backfilling" }
    })
    expect(completion(initialState(setup({ until: at(10) }), null))).toEqual({
      _tag: "RecordProgress",
      progress: { collectedUntil: at(10), lastBarAt: null, progress: 100, status: "current" }
    })
    expect(completion(initialState(setup({ subscriptionStatus: "current" }), null))).toMatchObject({
      progress: { progress: 66.67, status: "current" }
    })
  })

  it("completion: a gap run records what is left of its range as empty", () => {
    const s = initialState(setup({ forward: false }), null)
    expect(completion(s)).toEqual({ _tag: "RecordEmpty", ranges: [{ from: at(0), to: at(10) }] })
    expect(completion({ ...s, cursor: at(4) })).toEqual({
      _tag: "RecordEmpty",
      ranges: [{ from: at(4), to: at(10) }]
    })
    expect(completion({ ...s, cursor: at(10) })).toEqual({ _tag: "RecordEmpty", ranges: [] })
  })
})
