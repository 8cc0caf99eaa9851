import { describe, expect, it } from "@effect/vitest"
import type { Bar } from "@quasar/providers/sdk"
import { addBar, type BarBatcher, emptyBatcher } from "../../src/deploy/BarBatcher"

const bar = (symbol: string, ts: number): Bar => ({
  symbol,
  ts,
  open: 1,
  high: 1,
  low: 1,
  close: 1,
  volume: 1
})

const feed = (state: BarBatcher, bars: ReadonlyArray<Bar>) => {
  const out: Array<Array<string>> = []
  for (const b of bars) {
    const step = addBar(state, b)
    state = step.state
    for (const batch of step.batches) out.push(batch.map((x) => `${x.symbol}@${x.ts}`))
  }
  return { state, out }
}

describe("BarBatcher", () => {
  it("gives a single-symbol universe each bar at once", () => {
    expect(feed(emptyBatcher(["A/USD"]), [bar("A/USD", 1), bar("A/USD", 2)]).out).toEqual([
      ["A/USD@1"],
      ["A/USD@2"]
    ])
  })

  it("gives a time once every symbol has its bar, or once a later time starts", () => {
    const { out, state } = feed(emptyBatcher(["A/USD", "B/USD"]), [
      bar("A/USD", 1),
      bar("B/USD", 1),
      bar("B/USD", 2),
      bar("A/USD", 3),
      bar("B/USD", 3)
    ])
    expect(out).toEqual([["A/USD@1", "B/USD@1"], ["B/USD@2"], ["A/USD@3", "B/USD@3"]])
    expect(state.pending).toEqual([])
  })

  it("drops bars of times given out, repeats, and symbols outside the universe", () => {
    const { out } = feed(emptyBatcher(["A/USD", "B/USD"], 1), [
      bar("A/USD", 1),
      bar("C/USD", 2),
      bar("A/USD", 2),
      bar("A/USD", 2),
      bar("B/USD", 2)
    ])
    expect(out).toEqual([["A/USD@2", "B/USD@2"]])
  })
})
