/**
 * What gathers between a connection's batches, as plain data: forming bars coalesced per series
 * in the order the series first arrived, closed and announced bars all kept oldest first, trusted
 * series, and the progress noted from published batches until it is recorded.
 */

import type { ProviderBar } from "@quasar/providers/sdk"
import { describe, expect, it } from "vitest"
import {
  type Batch,
  hasGathered,
  initialLiveWrites,
  type LiveWritesEvent,
  type LiveWritesState,
  stepLiveWrites
} from "../../src/live/LiveWritesState"
import { newSeries } from "../../src/live/SeriesState"

const btc = newSeries(1, "BTC/USD", "live", undefined)
const eth = newSeries(2, "ETH/USD", "both", undefined)
const bar = (ts: number, close = 1): ProviderBar => ({ ts, open: 1, high: 1, low: 1, close, volume: 1 })

const run = (state: LiveWritesState, ...events: ReadonlyArray<LiveWritesEvent>) => {
  let s = state
  const outputs = []
  for (const event of events) {
    const step = stepLiveWrites(s, event)
    s = step.state
    outputs.push(...step.outputs)
  }
  return { state: s, outputs }
}

/** Cuts a batch of what gathered in `state`. */
const cut = (state: LiveWritesState): { state: LiveWritesState; batch: Batch | undefined } => {
  const step = stepLiveWrites(state, { _tag: "Cut" })
  const [output] = step.outputs
  return { state: step.state, batch: output?._tag === "Batch" ? output.batch : undefined }
}

describe("LiveWritesState", () => {
  it("has nothing to cut at first", () => {
    expect(hasGathered(initialLiveWrites)).toBe(false)
    expect(cut(initialLiveWrites).batch).toBeUndefined()
  })

  it("keeps only the newest forming bar of a series, in the order the series first arrived", () => {
    const { state, outputs } = run(
      initialLiveWrites,
      { _tag: "Forming", state: btc, bar: bar(60, 1) },
      { _tag: "Forming", state: eth, bar: bar(60, 5) },
      { _tag: "Forming", state: btc, bar: bar(60, 2) },
      { _tag: "Forming", state: btc, bar: bar(120, 3) }
    )
    expect(outputs).toEqual([{ _tag: "Wake" }, { _tag: "Wake" }, { _tag: "Wake" }, { _tag: "Wake" }])
    expect(cut(state).batch?.forming).toEqual([
      { state: btc, bar: bar(120, 3) },
      { state: eth, bar: bar(60, 5) }
    ])
  })

  it("holds about one forming bar per series however many versions arrive before a cut", () => {
    let state = run(initialLiveWrites, { _tag: "Forming", state: eth, bar: bar(0) }).state
    for (let i = 1; i <= 10_000; i++)
      state = stepLiveWrites(state, { _tag: "Forming", state: btc, bar: bar(i) }).state
    expect(state.formingLength).toBeLessThanOrEqual(2 * 2 + 1_024 + 1)
    state = run(state, { _tag: "Forming", state: eth, bar: bar(1) }).state
    expect(cut(state).batch?.forming).toEqual([
      { state: eth, bar: bar(1) },
      { state: btc, bar: bar(10_000) }
    ])
  })

  it("keeps every closed and announced bar, oldest first, and wakes only when there are bars", () => {
    const { state, outputs } = run(
      initialLiveWrites,
      { _tag: "Closed", state: btc, bars: [bar(0), bar(60)] },
      { _tag: "Closed", state: eth, bars: [] },
      { _tag: "Announce", state: eth, bars: [] },
      { _tag: "Closed", state: eth, bars: [bar(0)] },
      { _tag: "Announce", state: eth, bars: [bar(-120), bar(-60)] },
      { _tag: "Closed", state: btc, bars: [bar(60, 2)] }
    )
    expect(outputs).toEqual([{ _tag: "Wake" }, { _tag: "Wake" }, { _tag: "Wake" }, { _tag: "Wake" }])
    const batch = cut(state).batch
    expect(batch?.closed).toEqual([
      { state: btc, bar: bar(0) },
      { state: btc, bar: bar(60) },
      { state: eth, bar: bar(0) },
      { state: btc, bar: bar(60, 2) }
    ])
    expect(batch?.announced).toEqual([
      { state: eth, bar: bar(-120) },
      { state: eth, bar: bar(-60) }
    ])
  })

  it("a trusted series alone is something to cut", () => {
    const { state, outputs } = run(initialLiveWrites, { _tag: "Streaming", state: eth })
    expect(outputs).toEqual([{ _tag: "Wake" }])
    expect(hasGathered(state)).toBe(true)
    expect(cut(state).batch).toEqual({ forming: [], closed: [], announced: [], trusted: new Set([2]) })
  })

  it("cutting takes everything: the next batch starts empty and orders its forming bars afresh", () => {
    const gathered = run(
      initialLiveWrites,
      { _tag: "Forming", state: btc, bar: bar(60) },
      { _tag: "Forming", state: eth, bar: bar(60) },
      { _tag: "Closed", state: btc, bars: [bar(0)] },
      { _tag: "Streaming", state: btc }
    ).state
    const first = cut(gathered)
    expect(hasGathered(first.state)).toBe(false)
    expect(cut(first.state).batch).toBeUndefined()
    const next = run(
      first.state,
      { _tag: "Forming", state: eth, bar: bar(120) },
      { _tag: "Forming", state: btc, bar: bar(120) }
    ).state
    expect(cut(next).batch).toEqual({
      forming: [
        { state: eth, bar: bar(120) },
        { state: btc, bar: bar(120) }
      ],
      closed: [],
      announced: [],
      trusted: new Set()
    })
  })

  it("notes the newest bar written per series and the series trusted, until recorded", () => {
    const { state, outputs } = run(
      initialLiveWrites,
      {
        _tag: "Published",
        written: [
          { state: btc, bar: bar(120) },
          { state: btc, bar: bar(60) },
          { state: eth, bar: bar(0) }
        ],
        trusted: new Set([1])
      },
      { _tag: "Published", written: [{ state: eth, bar: bar(60) }], trusted: new Set([2]) },
      { _tag: "Record" }
    )
    expect(outputs).toEqual([
      {
        _tag: "RecordProgress",
        latest: new Map([
          [1, 120],
          [2, 60]
        ]),
        trusted: new Set([1, 2])
      }
    ])
    expect(run(state, { _tag: "Record" }).outputs).toEqual([
      { _tag: "RecordProgress", latest: new Map(), trusted: new Set() }
    ])
  })

  it("progress noted is not something to cut, and cutting leaves it alone", () => {
    const noted = run(initialLiveWrites, {
      _tag: "Published",
      written: [{ state: btc, bar: bar(60) }],
      trusted: new Set()
    }).state
    expect(hasGathered(noted)).toBe(false)
    const withBar = run(noted, { _tag: "Forming", state: btc, bar: bar(120) }).state
    const afterCut = cut(withBar).state
    expect(run(afterCut, { _tag: "Record" }).outputs).toEqual([
      { _tag: "RecordProgress", latest: new Map([[1, 60]]), trusted: new Set() }
    ])
  })

  it("leaves the state it is given unchanged", () => {
    const before = run(initialLiveWrites, { _tag: "Closed", state: btc, bars: [bar(0)] }).state
    run(
      before,
      { _tag: "Closed", state: btc, bars: [bar(60)] },
      { _tag: "Streaming", state: btc },
      { _tag: "Cut" }
    )
    expect(cut(before).batch).toEqual({
      forming: [],
      closed: [{ state: btc, bar: bar(0) }],
      announced: [],
      trusted: new Set()
    })
  })
})
