/**
 * The sandbox channel's bar columns, byte for byte: what a provider child packs for the host
 * (live events and history pages) is pinned here, and unpacking gives back exactly the events
 * and pages that went in, in their order, with vwap and trades present only where they were.
 */
import { describe, expect, it } from "@effect/vitest"
import { packEvents, packedProblem, packPage, unpackEvents, unpackPage } from "../src/packedBars"

const hex = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("hex")

const events = [
  { type: "heartbeat" },
  {
    type: "bar",
    symbol: "BTC/USD",
    closed: true,
    bar: { ts: 60_000, open: 1, high: 2, low: 0.5, close: 1.5, volume: 3 }
  },
  {
    type: "bar",
    symbol: "ETH/USD",
    closed: false,
    bar: { ts: 120_000, open: 4, high: 5, low: 3, close: 4.5, volume: 6, vwap: 4.25, trades: 7 }
  },
  // Not a plain bar (a string price): it stays an object for the host to judge.
  {
    type: "bar",
    symbol: "BAD",
    closed: true,
    bar: { ts: 0, open: "1", high: 1, low: 1, close: 1, volume: 1 }
  }
] as const

describe("packed bars on the sandbox channel", () => {
  it("packs live bar events into the golden columns and back, in order", () => {
    const packed = packEvents(events)
    expect(packed.values).toEqual([events[0], events[3]])
    const bars = packed.bars!
    expect(Array.from(bars.at)).toEqual([1, 2])
    expect(bars.symbols).toEqual(["BTC/USD", "ETH/USD"])
    // Bit 0 closed, bit 1 vwap, bit 2 trades.
    expect(Array.from(bars.flags)).toEqual([0b001, 0b110])
    // Eight doubles per bar: ts, open, high, low, close, volume, vwap, trades (0 when absent).
    expect(Array.from(bars.numbers)).toEqual([
      60_000, 1, 2, 0.5, 1.5, 3, 0, 0, 120_000, 4, 5, 3, 4.5, 6, 4.25, 7
    ])
    expect(hex(bars.numbers).slice(0, 32)).toBe("00000000004ced40000000000000f03f")
    expect(packedProblem(packed.values, bars)).toBeUndefined()
    expect(unpackEvents(packed.values, bars)).toEqual(events)
  })

  it("packs a history page's bars and rebuilds the page", () => {
    const page = {
      bars: [
        { ts: 0, open: 1, high: 1, low: 1, close: 1, volume: 0 },
        { ts: 60_000, open: 1, high: 2, low: 1, close: 2, volume: 1, trades: 3 }
      ],
      next: "cursor"
    }
    const packed = packPage(page)!
    expect(packed.value).toEqual({ bars: [], next: "cursor" })
    expect(Array.from(packed.page.flags)).toEqual([0, 0b100])
    expect(Array.from(packed.page.numbers.subarray(8))).toEqual([60_000, 1, 2, 1, 2, 1, 0, 3])
    expect(unpackPage(packed.value, packed.page)).toEqual(page)
    // A page with anything but plain bars goes as it is.
    expect(packPage({ bars: [{ ts: "x" }] })).toBeUndefined()
  })

  it("names columns that cannot belong to their message", () => {
    const { values, bars } = packEvents(events)
    expect(packedProblem(values, { ...bars!, symbols: ["one"] })).toMatch(/different lengths/)
    expect(packedProblem(values, { ...bars!, at: Int32Array.of(2, 1) })).toMatch(/not rising/)
    expect(packedProblem([], bars!)).toMatch(/past the end/)
  })
})
