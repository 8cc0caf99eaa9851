/**
 * Live bar events as columns on the sandbox channel: what is packed, that the host gets the same
 * events back in the same order through a real structured clone, and that the host refuses
 * columns that do not fit together.
 */
import { deserialize, serialize } from "node:v8"
import { describe, expect, it } from "@effect/vitest"
import { packEvents, packedProblem, packPage, unpackEvents, unpackPage } from "@quasar/sandbox"
import { Either, Schema } from "effect"
import { ChildMessage } from "../../src/sandbox/protocol"

const bar = (symbol: string, ts: number, extra: Record<string, number> = {}, closed = false) => ({
  type: "bar",
  symbol,
  bar: { ts, open: 1.5, high: 2.25, low: 0.125, close: 1.75, volume: 1e-8, ...extra },
  closed
})

/** Through the channel as Node's IPC sends it (`serialization: "advanced"`). */
const viaChannel = <A>(message: A): A => deserialize(serialize(message)) as A

describe("packed bar columns", () => {
  it("packs plain bar events and gives back the same events, in order, with everything else in place", () => {
    const events = [
      { type: "subscribed", symbol: "A" },
      bar("A", 60_000),
      bar("B", 60_000, { vwap: 1.6 }),
      { type: "heartbeat" },
      bar("A", 60_000, { trades: 12, vwap: 1.7 }, true),
      bar("C", 120_000, { trades: 0 }),
      { type: "rejected", symbol: "D", reason: "unknown pair" }
    ]
    const packed = viaChannel(packEvents(events))
    expect(packed.values).toEqual([events[0], events[3], events[6]])
    expect(packed.bars?.at).toEqual(Int32Array.from([1, 2, 4, 5]))
    expect(packed.bars?.numbers).toBeInstanceOf(Float64Array)
    expect(unpackEvents(packed.values, packed.bars)).toStrictEqual(events)
  })

  it("keeps values exactly: fractions, huge and tiny numbers, -0, NaN", () => {
    const events = [
      bar("A", 1_764_162_000_000, { vwap: Number.NaN, trades: 2 ** 40 }),
      {
        type: "bar",
        symbol: "B",
        bar: { ts: -0, open: 0.1 + 0.2, high: 1e300, low: 5e-324, close: -0, volume: 0 },
        closed: false
      }
    ]
    const back = unpackEvents(...(Object.values(viaChannel(packEvents(events))) as [Array<unknown>, never]))
    expect(back).toStrictEqual(events)
    const b = (back[1] as { bar: Record<string, number> }).bar
    expect(Object.is(b.ts, -0) && Object.is(b.close, -0)).toBe(true)
    expect(b.open).toBe(0.1 + 0.2)
  })

  it("sends anything the host must judge as it is: wrong types, undefined fields, no bar", () => {
    const odd = [
      null,
      "text",
      { type: "bar", symbol: "A", closed: false },
      { type: "bar", symbol: "A", closed: "no", bar: bar("A", 60_000).bar },
      { type: "bar", symbol: "A", closed: false, bar: { ...bar("A", 60_000).bar, open: "1.5" } },
      { type: "bar", symbol: "A", closed: false, bar: { ...bar("A", 60_000).bar, vwap: undefined } },
      { type: "bar", symbol: 7, closed: false, bar: bar("A", 60_000).bar }
    ]
    const packed = packEvents(odd)
    expect(packed.bars).toBeUndefined()
    expect(packed.values).toEqual(odd)
    expect(unpackEvents(packed.values, packed.bars)).toEqual(odd)
  })

  it("the host's decode accepts consistent columns and refuses columns that do not fit", () => {
    const decode = Schema.decodeUnknownEither(ChildMessage)
    const { values, bars } = viaChannel(
      packEvents([{ type: "heartbeat" }, bar("A", 60_000), bar("B", 60_000)])
    )
    expect(Either.isRight(decode({ _tag: "Items", id: 1, values, bars }))).toBe(true)
    if (bars === undefined) throw new Error("expected packed bars")
    const broken = [
      { ...bars, symbols: ["A"] },
      { ...bars, at: Int32Array.from([2, 1]) },
      { ...bars, at: Int32Array.from([1, 3]) },
      { ...bars, numbers: new Float64Array(3) },
      { ...bars, flags: [0, 0] }
    ]
    for (const b of broken)
      expect(Either.isLeft(decode({ _tag: "Items", id: 1, values, bars: b }))).toBe(true)
    expect(packedProblem(values, { ...bars, at: Int32Array.from([2, 1]) })).toBe(
      "packed bar positions not rising"
    )
    expect(Either.isLeft(decode({ _tag: "Items", id: 1, values: [] }))).toBe(true)
  })

  it("a history page's bars go as columns and come back the same, other fields kept", () => {
    const page = {
      bars: [
        bar("A", 60_000).bar,
        bar("A", 120_000, { vwap: 1.6, trades: 3 }).bar,
        bar("A", 180_000, { trades: 0 }).bar
      ],
      next: "cursor-7"
    }
    const packed = packPage(page)
    if (packed === undefined) throw new Error("expected a packed page")
    const sent = viaChannel({ _tag: "Item", id: 3, ...packed })
    expect(sent.value).toEqual({ bars: [], next: "cursor-7" })
    expect(Either.isRight(Schema.decodeUnknownEither(ChildMessage)(sent))).toBe(true)
    expect(unpackPage(sent.value, sent.page)).toStrictEqual(page)
  })

  it("a page with any odd bar, or no bars array, goes as it is", () => {
    expect(
      packPage({ bars: [bar("A", 60_000).bar, { ...bar("A", 120_000).bar, close: "1" }] })
    ).toBeUndefined()
    expect(packPage({ bars: "none" })).toBeUndefined()
    expect(packPage({ bars: [] })).toBeUndefined()
    expect(packPage(null)).toBeUndefined()
    const decode = Schema.decodeUnknownEither(ChildMessage)
    const page = { flags: new Uint8Array(2), numbers: new Float64Array(15) }
    expect(Either.isLeft(decode({ _tag: "Item", id: 1, value: { bars: [] }, page }))).toBe(true)
  })
})
