/**
 * A series' stream bookkeeping as plain data: the phases waiting → filling → trusted, closed bars
 * held until the gap fill lands, revisions of the last closed bar, suspect bars asked again, and
 * the minutes a trusted stream skipped asked from history.
 */

import type { ProviderBar } from "@quasar/providers/sdk"
import { describe, expect, it } from "vitest"
import {
  initialSeriesEvents,
  type SeriesEvents,
  type SeriesEventsEvent,
  stepSeriesEvents
} from "../../src/live/SeriesEventsState"

const M = 60_000
const config = { timeframe: "1m" as const, suspectMs: 30_000 }
const bar = (ts: number, close = 1): ProviderBar => ({ ts, open: 1, high: 1, low: 1, close, volume: 1 })
const step = (state: SeriesEvents, event: SeriesEventsEvent) => stepSeriesEvents(config, state, event)
const closedBar = (ts: number, close = 1, silentMs = 0): SeriesEventsEvent => ({
  _tag: "Bar",
  bar: bar(ts, close),
  closed: true,
  now: 1_000_000,
  lastLiveAt: 1_000_000 - silentMs
})
const formingBar = (ts: number): SeriesEventsEvent => ({
  _tag: "Bar",
  bar: bar(ts),
  closed: false,
  now: 1_000_000,
  lastLiveAt: 1_000_000
})
const trusted = (lastClosed: number | undefined, suspectFrom?: number): SeriesEvents => ({
  phase: "trusted",
  lastClosed,
  held: [],
  suspectFrom
})

describe("SeriesEventsState", () => {
  it("a waiting series starts a fill when answered; others do not", () => {
    expect(step(initialSeriesEvents(undefined), { _tag: "Answered" }).outputs).toEqual([
      { _tag: "StartFill" }
    ])
    expect(step(trusted(10 * M), { _tag: "Answered" }).outputs).toEqual([])
    expect(step({ ...trusted(10 * M), phase: "filling" }, { _tag: "Answered" }).outputs).toEqual([])
  })

  it("a fill asks from the last stored bar (it may be a guess never revised) up to the forming bar's open", () => {
    const { state, outputs } = step(initialSeriesEvents(10 * M), { _tag: "FillStart", now: 15 * M + 5 })
    expect(state.phase).toBe("filling")
    expect(outputs).toEqual([{ _tag: "Fill", storedUntil: 10 * M, from: 10 * M, to: 15 * M }])
  })

  it("a fill starts at the first suspect bar when it is older, and asks nothing without a stored bar", () => {
    const suspect = { ...initialSeriesEvents(10 * M), suspectFrom: 8 * M }
    expect(step(suspect, { _tag: "FillStart", now: 15 * M }).outputs).toEqual([
      { _tag: "Fill", storedUntil: 10 * M, from: 8 * M, to: 15 * M }
    ])
    expect(step(initialSeriesEvents(undefined), { _tag: "FillStart", now: 15 * M }).outputs).toEqual([
      { _tag: "Fill", storedUntil: undefined, from: 15 * M, to: 15 * M }
    ])
  })

  it("closed bars are held until the fill lands; then those history did not deliver are written", () => {
    let s = step(initialSeriesEvents(10 * M), { _tag: "FillStart", now: 13 * M }).state
    s = step(s, closedBar(10 * M)).state // a snapshot repeating the stored bar
    s = step(s, closedBar(12 * M)).state
    s = step(s, closedBar(13 * M)).state
    expect(s.held.map((b) => b.ts)).toEqual([10 * M, 12 * M, 13 * M])
    const written = new Map([
      [11 * M, bar(11 * M)],
      [12 * M, bar(12 * M, 2)]
    ])
    const { state, outputs } = step(s, { _tag: "Filled", storedUntil: 10 * M, to: 13 * M, written })
    expect(state).toEqual({ phase: "trusted", lastClosed: 13 * M, held: [], suspectFrom: undefined })
    expect(outputs).toEqual([
      { _tag: "Announce", bars: [] },
      { _tag: "Closed", bars: [bar(13 * M)] },
      { _tag: "Streaming" }
    ])
  })

  it("a fill announces the bars it wrote over closed ones and clears the suspect mark before its end", () => {
    const s: SeriesEvents = { phase: "filling", lastClosed: 12 * M, held: [], suspectFrom: 11 * M }
    const written = new Map([
      [12 * M, bar(12 * M, 3)],
      [11 * M, bar(11 * M, 2)]
    ])
    const { state, outputs } = step(s, { _tag: "Filled", storedUntil: 12 * M, to: 13 * M, written })
    expect(state).toEqual(trusted(12 * M))
    expect(outputs[0]).toEqual({ _tag: "Announce", bars: [bar(11 * M, 2), bar(12 * M, 3)] })
    // A suspect bar at or after the fill's end stays marked.
    const later = { ...s, suspectFrom: 13 * M }
    expect(step(later, { _tag: "Filled", storedUntil: 12 * M, to: 13 * M, written }).state.suspectFrom).toBe(
      13 * M
    )
  })

  it("a fill with nothing stored announces nothing and leaves no last bar when none came", () => {
    const s: SeriesEvents = { phase: "filling", lastClosed: undefined, held: [], suspectFrom: undefined }
    const { state, outputs } = step(s, {
      _tag: "Filled",
      storedUntil: undefined,
      to: 5 * M,
      written: new Map()
    })
    expect(state).toEqual(trusted(undefined))
    expect(outputs).toEqual([{ _tag: "Closed", bars: [] }, { _tag: "Streaming" }])
  })

  it("a fill that ends after its series went back to waiting changes nothing", () => {
    const s = { ...initialSeriesEvents(10 * M), held: [bar(11 * M)] }
    const after = step(s, { _tag: "Filled", storedUntil: 10 * M, to: 12 * M, written: new Map() })
    expect(after.state).toBe(s)
    expect(after.outputs).toEqual([])
  })

  it("a trusted stream writes closed bars and forming bars; stale ones are dropped", () => {
    const closed = step(trusted(10 * M), closedBar(11 * M))
    expect(closed.state.lastClosed).toBe(11 * M)
    expect(closed.outputs).toEqual([{ _tag: "Closed", bars: [bar(11 * M)] }])
    expect(step(trusted(10 * M), formingBar(11 * M)).outputs).toEqual([{ _tag: "Forming", bar: bar(11 * M) }])
    expect(step(trusted(10 * M), closedBar(9 * M)).outputs).toEqual([])
    expect(step(trusted(10 * M), formingBar(10 * M)).outputs).toEqual([])
  })

  it("a closed bar again for the last one closed is a revision and is written", () => {
    const { state, outputs } = step(trusted(10 * M), closedBar(10 * M, 5))
    expect(state.lastClosed).toBe(10 * M)
    expect(outputs).toEqual([{ _tag: "Closed", bars: [bar(10 * M, 5)] }])
  })

  it("minutes a trusted stream skipped are asked from history", () => {
    const { state, outputs } = step(trusted(10 * M), closedBar(13 * M))
    expect(state.lastClosed).toBe(13 * M)
    expect(outputs).toEqual([
      { _tag: "Closed", bars: [bar(13 * M)] },
      { _tag: "FillSkipped", from: 11 * M, to: 13 * M }
    ])
    // With no bar before it, nothing counts as skipped.
    expect(step(trusted(undefined), closedBar(13 * M)).outputs).toEqual([
      { _tag: "Closed", bars: [bar(13 * M)] }
    ])
  })

  it("a closed bar after a silence is suspect; skipped minutes before it join the suspect range", () => {
    const alone = step(trusted(10 * M), closedBar(11 * M, 1, 30_001))
    expect(alone.state.suspectFrom).toBe(11 * M)
    expect(step(trusted(10 * M), closedBar(11 * M, 1, 30_000)).state.suspectFrom).toBeUndefined()
    const skipped = step(trusted(10 * M), closedBar(13 * M, 1, 60_000))
    expect(skipped.state.suspectFrom).toBe(11 * M)
    expect(skipped.outputs).toEqual([{ _tag: "Closed", bars: [bar(13 * M)] }])
    // A held bar can be suspect too: the fill asks for it again.
    const held = step({ ...initialSeriesEvents(10 * M), phase: "filling" }, closedBar(12 * M, 1, 60_000))
    expect(held.state.suspectFrom).toBe(12 * M)
    expect(held.state.held).toEqual([bar(12 * M)])
  })

  it("a forming bar of a trusted series with a suspect bar starts a fill; not while filling", () => {
    expect(step(trusted(11 * M, 11 * M), formingBar(12 * M)).outputs).toEqual([
      { _tag: "Forming", bar: bar(12 * M) },
      { _tag: "StartFill" }
    ])
    const filling = { ...trusted(11 * M, 11 * M), phase: "filling" as const }
    expect(step(filling, formingBar(12 * M)).outputs).toEqual([{ _tag: "Forming", bar: bar(12 * M) }])
  })

  it("a reconnect puts a series back to waiting, keeping what it held", () => {
    const s: SeriesEvents = { phase: "filling", lastClosed: 10 * M, held: [bar(11 * M)], suspectFrom: 9 * M }
    expect(step(s, { _tag: "Wait" }).state).toEqual({ ...s, phase: "waiting" })
  })
})
