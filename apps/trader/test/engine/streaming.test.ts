/**
 * A run takes its bars as they arrive: appended per member in blocks of any size, in any order
 * across members, with the run advancing between them as far as they allow, it gives the result
 * of the same run handed every bar at once. It waits for a member still loading rather than run
 * a bar time that member may still bring, and refuses bars that cannot follow what it has.
 */
import { describe, expect, it } from "@effect/vitest"
import { FillSettings } from "@quasar/domain"
import { type BacktestRun, startBacktest } from "../../src/engine"
import { runBacktest } from "../../src/engine/runBacktest"
import type { BacktestInput, BarColumns } from "../../src/engine/types"
import { DAY, flatBars, input, scripted, walk } from "./fixtures"
import { smaCross } from "./smaCross"

const MINUTE = 60_000

const slice = (c: BarColumns, from: number, to: number): BarColumns => ({
  ts: c.ts.slice(from, to),
  open: c.open.slice(from, to),
  high: c.high.slice(from, to),
  low: c.low.slice(from, to),
  close: c.close.slice(from, to),
  volume: c.volume.slice(from, to)
})

/** `columns` cut at `cuts` (ascending indices) into blocks. */
const blocks = (columns: BarColumns, cuts: ReadonlyArray<number>): Array<BarColumns> =>
  [0, ...cuts, columns.ts.length]
    .slice(0, -1)
    .map((start, i, starts) =>
      slice(columns, start, i + 1 < starts.length ? starts[i + 1]! : columns.ts.length)
    )

const started = (given: BacktestInput, expected = 0): BacktestRun => {
  const { bars: _, ...setup } = given
  const outcome = startBacktest(setup, () => expected)
  if (!outcome.ok) throw new Error(outcome.problems.join("; "))
  return outcome.run
}

const batch = (given: BacktestInput) => {
  const outcome = runBacktest(given)
  if (!outcome.ok) throw new Error(outcome.problems.join("; "))
  return outcome.result
}

/** Appends each [key, block] in turn, advancing a little after each; then finishes every key. */
const feed = (
  run: BacktestRun,
  arrivals: ReadonlyArray<readonly [string, BarColumns]>,
  keys: ReadonlyArray<string>
) => {
  for (const [key, block] of arrivals) {
    expect(run.append(key, block)).toBeUndefined()
    run.advance(7)
  }
  for (const key of keys) {
    run.finish(key)
    run.advance(3)
  }
  while (!run.advance(100)) expect(run.waiting).toBe(false)
  return run.result()
}

describe("a run fed its bars as they arrive", () => {
  it("gives the result of the same run handed every bar at once, whatever the blocks", () => {
    const btc = walk(2_000, 3)
    const given = input(
      smaCross,
      { "BTC/USD": btc },
      { from: 40 * MINUTE, fill: FillSettings.make({ feeBps: 10 }) }
    )
    const whole = batch(given)
    expect(whole.fills.length).toBeGreaterThan(5)
    for (const cuts of [[1], [1, 2, 3, 40, 41, 1_500], [999], [10, 20, 30, 1_999]]) {
      const run = started(given, 2_000)
      const fed = feed(
        run,
        blocks(btc, cuts).map((b) => ["BTC/USD", b] as const),
        ["BTC/USD"]
      )
      expect(fed).toStrictEqual(whole)
    }
    // Expecting fewer bars than come, or none, changes nothing but the room made ahead.
    for (const expected of [0, 10, 5_000]) {
      const fed = feed(
        started(given, expected),
        blocks(btc, [500, 1_000]).map((b) => ["BTC/USD", b] as const),
        ["BTC/USD"]
      )
      expect(fed).toStrictEqual(whole)
    }
  })

  it("merges members arriving in any order and hands bars of one time over together", () => {
    const calls: Array<string> = []
    const strategy = scripted(
      (ctx, bars) => calls.push(`${ctx.time / DAY}:${bars.map((b) => b.symbol).join("+")}`),
      ["A", "B"]
    )
    // A trades days 0 to 5 but 3; B days 1 to 5 but 4.
    const aWithoutDay3: BarColumns = {
      ts: Float64Array.from([0, 1, 2, 4, 5].map((d) => d * DAY)),
      open: Float64Array.from([10, 20, 30, 50, 60]),
      high: Float64Array.from([10, 20, 30, 50, 60]),
      low: Float64Array.from([10, 20, 30, 50, 60]),
      close: Float64Array.from([10, 20, 30, 50, 60]),
      volume: Float64Array.from([1, 1, 1, 1, 1])
    }
    const b: BarColumns = {
      ts: Float64Array.from([1, 2, 3, 5].map((d) => d * DAY)),
      open: Float64Array.from([5, 6, 7, 8]),
      high: Float64Array.from([5, 6, 7, 8]),
      low: Float64Array.from([5, 6, 7, 8]),
      close: Float64Array.from([5, 6, 7, 8]),
      volume: Float64Array.from([1, 1, 1, 1])
    }
    const given = input(strategy, { A: aWithoutDay3, B: b })
    const whole = batch(given)
    const expectedCalls = ["0:A", "1:A+B", "2:A+B", "3:B", "4:A", "5:A+B"]
    expect(calls).toEqual(expectedCalls)

    const orders: ReadonlyArray<ReadonlyArray<readonly [string, BarColumns]>> = [
      // All of A first, then B: A's bars wait for B's.
      [
        ["A", aWithoutDay3],
        ["B", b]
      ],
      // Interleaved, one bar at a time.
      [
        ["B", slice(b, 0, 1)],
        ["A", slice(aWithoutDay3, 0, 1)],
        ["A", slice(aWithoutDay3, 1, 3)],
        ["B", slice(b, 1, 2)],
        ["B", slice(b, 2, 4)],
        ["A", slice(aWithoutDay3, 3, 5)]
      ]
    ]
    for (const arrivals of orders) {
      calls.length = 0
      const fed = feed(started(given, 6), arrivals, ["A", "B"])
      expect(calls).toEqual(expectedCalls)
      expect(fed).toStrictEqual(whole)
    }
  })

  it("waits for a member still loading, and completes once every member has finished", () => {
    const calls: Array<number> = []
    const strategy = scripted((ctx) => calls.push(ctx.time / DAY), ["A", "B"])
    const a = flatBars([1, 2, 3])
    const b = flatBars([4, 5, 6])
    const run = started(input(strategy, { A: a, B: b }), 3)
    expect(run.append("A", a)).toBeUndefined()
    // B may still bring a bar at day 0: nothing runs yet.
    expect(run.advance(100)).toBe(false)
    expect(run.waiting).toBe(true)
    expect(run.progress).toEqual({ done: 0, total: 3 })
    expect(run.append("B", slice(b, 0, 2))).toBeUndefined()
    expect(run.advance(100)).toBe(false)
    // Days 0 and 1 ran; day 2 waits for B, whose newest bar is day 1.
    expect(calls).toEqual([0, 1])
    expect(run.waiting).toBe(true)
    run.finish("A")
    expect(run.advance(100)).toBe(false)
    expect(run.waiting).toBe(true)
    run.finish("B")
    expect(run.waiting).toBe(false)
    // B finished without day 2's bar: day 2 runs with A's alone.
    expect(run.advance(100)).toBe(true)
    expect(calls).toEqual([0, 1, 2])
    expect(run.status).toBe("completed")
    expect(run.progress).toEqual({ done: 3, total: 3 })
  })

  it("counts on the expected bars until every member has finished, then on the bars there were", () => {
    const run = started(
      input(
        scripted(() => {}),
        { "BTC/USD": flatBars([1, 2, 3, 4]) }
      ),
      10
    )
    expect(run.progress).toEqual({ done: 0, total: 10 })
    run.append("BTC/USD", flatBars([1, 2, 3, 4]))
    run.advance(100)
    expect(run.progress).toEqual({ done: 4, total: 10 })
    run.finish("BTC/USD")
    expect(run.progress).toEqual({ done: 4, total: 4 })
    expect(run.advance(100)).toBe(true)
    expect(run.status).toBe("completed")
  })

  it("refuses bars that cannot follow the ones it has, and appends nothing of them", () => {
    const run = started(
      input(
        scripted(() => {}),
        { "BTC/USD": flatBars([1, 2, 3]) }
      )
    )
    expect(run.append("BTC/USD", flatBars([1, 2], DAY))).toBeUndefined()
    expect(run.append("BTC/USD", flatBars([3], DAY))).toBe(
      "BTC/USD: timestamps must rise strictly (a block starts at or before the bar before it)"
    )
    expect(run.append("ETH/USD", flatBars([3], 5 * DAY))).toBe(
      "bars given for ETH/USD, which is not in the universe"
    )
    expect(run.append("BTC/USD", { ...flatBars([3], 5 * DAY), close: new Float64Array(2) })).toBe(
      "BTC/USD: column close must be a Float64Array of 1 values, like ts"
    )
    run.finish("BTC/USD")
    expect(run.append("BTC/USD", flatBars([3], 9 * DAY))).toBe("bars given for BTC/USD after its last")
    expect(run.advance(100)).toBe(true)
    expect(run.result().progress).toEqual({ done: 2, total: 2 })
  })

  it("takes bars written in place into the room it makes, as it takes appended ones", () => {
    const btc = walk(1_000, 5)
    const given = input(smaCross, { "BTC/USD": btc }, { from: 40 * MINUTE })
    const whole = batch(given)
    // Room for 10 bars at first: later blocks grow the columns.
    const run = started(given, 10)
    for (const block of blocks(btc, [3, 500, 777])) {
      const n = block.ts.length
      const room = run.room("BTC/USD", n)
      if (room === undefined) throw new Error("no room")
      for (const name of ["ts", "open", "high", "low", "close", "volume"] as const)
        room[name].set(block[name])
      expect(run.commit("BTC/USD", n)).toBeUndefined()
      run.advance(50)
    }
    run.finish("BTC/USD")
    while (!run.advance(100));
    expect(run.result()).toStrictEqual(whole)
    expect(run.room("BTC/USD", 1)).toBeUndefined()

    // Bars written that do not follow are not kept: the room is offered again.
    const other = started(given)
    other.room("BTC/USD", 2)!.ts.set([5, 4])
    expect(other.commit("BTC/USD", 2)).toMatch(/bar 1 is not after bar 0/)
    const again = other.room("BTC/USD", 2)!
    again.ts.set([4, 5])
    expect(other.commit("BTC/USD", 2)).toBeUndefined()
    expect(other.room("ETH/USD", 1)).toBeUndefined()
    expect(other.commit("ETH/USD", 1)).toBe("bars given for ETH/USD, which is not in the universe")
  })

  it("leaves out bars at or after `to`", () => {
    const given = input(
      scripted(() => {}),
      { "BTC/USD": flatBars([1, 2, 3, 4, 5]) },
      { to: 3 * DAY }
    )
    const run = started(given)
    run.append("BTC/USD", flatBars([1, 2, 3, 4, 5]))
    run.finish("BTC/USD")
    expect(run.advance(100)).toBe(true)
    expect(run.result()).toStrictEqual(batch(given))
    expect(run.progress).toEqual({ done: 3, total: 3 })
  })
})
