import { describe, expect, it } from "vitest"
import { BarCloser } from "../../src/kraken/ws"
import type { ProviderBar } from "../../src/sdk"

const MIN = 60_000
const bar = (ts: number, close: number): ProviderBar => ({
  ts,
  open: 1,
  high: 9,
  low: 1,
  close,
  volume: close
})

describe("Kraken's BarCloser", () => {
  it("closes a bar when the next interval begins, and only once", () => {
    const closer = new BarCloser(MIN, 10_000)
    expect(closer.update("X", bar(0, 2), 1_000)).toEqual({ closed: [], forming: true })
    expect(closer.update("X", bar(0, 3), 2_000)).toEqual({ closed: [], forming: true })
    expect(closer.update("X", bar(MIN, 4), MIN + 1)).toEqual({ closed: [bar(0, 3)], forming: true })
    // The same final values again are no news.
    expect(closer.update("X", bar(0, 3), MIN + 2)).toEqual({ closed: [], forming: false })
  })

  it("closes a silent bar on the timer, and revises it when a late update with other values arrives", () => {
    const closer = new BarCloser(MIN, 10_000)
    closer.update("X", bar(0, 2), 1_000)
    expect(closer.anyExpired(MIN + 9_999)).toBe(false)
    expect(closer.anyExpired(MIN + 10_000)).toBe(true)
    expect(closer.expire(MIN + 10_000)).toEqual([["X", bar(0, 2)]])
    expect(closer.anyExpired(MIN + 10_000)).toBe(false)
    // The exchange's final values arrive after the timer guessed: closed again with them.
    expect(closer.update("X", bar(0, 5), MIN + 11_000)).toEqual({ closed: [bar(0, 5)], forming: false })
    expect(closer.update("X", bar(0, 5), MIN + 11_500)).toEqual({ closed: [], forming: false })
    // The next bar forms as usual; an update for a bar older than the last closed one is stale.
    expect(closer.update("X", bar(MIN, 6), MIN + 12_000)).toEqual({ closed: [], forming: true })
    expect(closer.update("X", bar(-MIN, 7), MIN + 12_000)).toEqual({ closed: [], forming: false })
  })

  it("keeps each symbol's bars apart", () => {
    const closer = new BarCloser(MIN, 10_000)
    closer.update("X", bar(0, 2), 1_000)
    closer.update("Y", bar(MIN, 3), MIN + 1)
    expect(closer.expire(MIN + 10_000)).toEqual([["X", bar(0, 2)]])
    expect(closer.update("Y", bar(2 * MIN, 4), 2 * MIN + 1)).toEqual({ closed: [bar(MIN, 3)], forming: true })
  })
})
