/** The sandbox's read-ahead buffer of live events: what it keeps, replaces and keeps in order. */
import { describe, expect, it } from "@effect/vitest"
import { LiveBuffer } from "../../src/sandbox/liveBuffer"

const bar = (symbol: string, ts: number, close: number, closed = false) => ({
  type: "bar",
  symbol,
  closed,
  bar: { ts, open: 1, high: 2, low: 0.5, close, volume: 1 }
})

describe("LiveBuffer", () => {
  it("replaces a waiting forming bar by its newer version, in its place", () => {
    const buffer = new LiveBuffer()
    buffer.push({ type: "subscribed", symbol: "A" })
    buffer.push(bar("A", 60, 1))
    buffer.push(bar("B", 60, 1))
    buffer.push(bar("A", 60, 2))
    buffer.push({ type: "heartbeat" })
    buffer.push(bar("A", 60, 3))
    expect(buffer.take()).toEqual([
      { type: "subscribed", symbol: "A" },
      bar("A", 60, 3),
      bar("B", 60, 1),
      { type: "heartbeat" }
    ])
    expect(buffer.coalesced).toBe(2)
    expect(buffer.size).toBe(0)
  })

  it("keeps every closed bar, and a forming bar of the next interval after the close", () => {
    const buffer = new LiveBuffer()
    buffer.push(bar("A", 60, 1))
    buffer.push(bar("A", 60, 2, true))
    buffer.push(bar("A", 120, 5))
    buffer.push(bar("A", 120, 6))
    // A version of the closed bar arriving after its close is not moved before it.
    buffer.push(bar("A", 60, 9))
    expect(buffer.take()).toEqual([bar("A", 60, 1), bar("A", 60, 2, true), bar("A", 120, 6), bar("A", 60, 9)])
  })

  it("passes anything that is not a well-formed bar event through untouched, for the host to judge", () => {
    const buffer = new LiveBuffer()
    const odd = [
      null,
      42,
      { type: "bar", symbol: "A" },
      { type: "bar", symbol: "A", closed: false, bar: null }
    ]
    for (const e of odd) buffer.push(e)
    buffer.push(odd[3])
    expect(buffer.take()).toEqual([...odd, odd[3]])
  })

  it("starts afresh after take: versions already sent are not replaced", () => {
    const buffer = new LiveBuffer()
    buffer.push(bar("A", 60, 1))
    expect(buffer.take()).toEqual([bar("A", 60, 1)])
    buffer.push(bar("A", 60, 2))
    expect(buffer.take()).toEqual([bar("A", 60, 2)])
  })
})

describe("LiveBuffer across rounds", () => {
  it("replaces within each round, whatever was sent in the rounds before", () => {
    const buffer = new LiveBuffer()
    buffer.push(bar("A", 60, 1))
    buffer.push(bar("B", 60, 1))
    expect(buffer.take()).toEqual([bar("A", 60, 1), bar("B", 60, 1)])
    buffer.push(bar("B", 60, 2))
    buffer.push(bar("A", 60, 2))
    buffer.push(bar("B", 60, 3))
    buffer.push(bar("A", 60, 3))
    expect(buffer.take()).toEqual([bar("B", 60, 3), bar("A", 60, 3)])
    expect(buffer.coalesced).toBe(2)
  })
})
