import {
  type BacktestFill,
  type BacktestInputs,
  type BacktestStatistics,
  CodeVersion,
  ProviderName
} from "@quasar/domain"
import { DateTime } from "effect"
import { describe, expect, it } from "vitest"
import { chartPoints, thinned } from "../src/backtest/chartPoints"
import { drawdownOf } from "../src/backtest/drawdown"
import {
  changedParams,
  defaultsOf,
  type ParamsSpec,
  paramBounds,
  paramProblems
} from "../src/backtest/paramsDraft"
import { statisticRows } from "../src/backtest/statisticRows"
import { memberKey, strategyManifestOf } from "../src/backtest/strategyManifest"
import { tradeMarkers } from "../src/backtest/tradeMarkers"
import { memberQuery } from "../src/composables/useRunBars"

const HOUR = 3_600_000
const T0 = Date.UTC(2024, 0, 1)

describe("drawdownOf", () => {
  it("is each close's distance below the highest equity so far, the initial cash included", () => {
    const dd = drawdownOf([100, 90, 110, 99, 121], 100)
    expect(Array.from(dd).map((x) => Math.round(x * 1e6) / 1e6)).toEqual([0, -0.1, 0, -0.1, 0])
    // Below the starting cash from the first close on.
    expect(Array.from(drawdownOf([80, 60], 100))).toEqual([-0.19999999999999996, -0.4])
    expect(drawdownOf([], 100).length).toBe(0)
  })
})

describe("chartPoints", () => {
  it("turns epoch ms into seconds and keeps the last value of a repeated second", () => {
    expect(chartPoints([T0, T0 + 500, T0 + HOUR], [1, 2, 3])).toEqual([
      { time: T0 / 1000, value: 2 },
      { time: T0 / 1000 + 3600, value: 3 }
    ])
    // A time going back is dropped: the chart takes only increasing times.
    expect(chartPoints([T0 + HOUR, T0], [1, 2])).toEqual([{ time: T0 / 1000 + 3600, value: 1 }])
  })
})

const fast = { key: "fast", type: "integer", default: 10, min: 2, max: 200, label: "Fast SMA" } as const
const short = { key: "short", type: "boolean", default: false } as const
const spec: ParamsSpec = [
  fast,
  { key: "fraction", type: "number", default: 0.95, min: 0.01, max: 1 },
  short,
  { key: "mode", type: "enum", values: ["close", "hl2"], default: "close" },
  { key: "note", type: "string", default: "", maxLength: 3 }
]

describe("params form", () => {
  it("starts from the defaults and sends only what differs from them", () => {
    const draft = defaultsOf(spec)
    expect(draft).toEqual({ fast: 10, fraction: 0.95, short: false, mode: "close", note: "" })
    expect(paramProblems(spec, draft)).toEqual({})
    expect(changedParams(spec, draft)).toEqual({})
    expect(changedParams(spec, { ...draft, fast: 12, short: true })).toEqual({ fast: 12, short: true })
  })

  it("names each value the Trader would refuse, with the field's label", () => {
    expect(
      paramProblems(spec, { fast: 1.5, fraction: "", short: false, mode: "open", note: "long" })
    ).toEqual({
      fast: "Fast SMA must be a whole number",
      fraction: "fraction must be a number",
      mode: "mode must be one of close, hl2",
      note: "note must be at most 3 characters"
    })
    expect(paramProblems(spec, { ...defaultsOf(spec), fast: 1, fraction: 2 })).toEqual({
      fast: "Fast SMA must be at least 2, got 1",
      fraction: "fraction must be at most 1, got 2"
    })
  })

  it("says a number's bounds", () => {
    expect(paramBounds(fast)).toBe("whole number, 2 to 200")
    expect(paramBounds({ key: "x", type: "number", default: 1, min: 0 })).toBe("number, at least 0")
    expect(paramBounds(short)).toBeNull()
  })
})

const fill = (ts: number, side: "buy" | "sell", orderId: number, symbol = "BTC/USD"): BacktestFill => ({
  orderId,
  symbol,
  side,
  ts,
  quantity: 1,
  price: 100.5,
  fee: 0.1
})

describe("tradeMarkers", () => {
  it("marks one symbol's buys below and sells above their bar, in time order", () => {
    const markers = tradeMarkers(
      [fill(T0 + HOUR, "sell", 2), fill(T0, "buy", 1), fill(T0, "buy", 3, "ETH/USD")],
      "BTC/USD",
      { buy: "blue", sell: "orange" }
    )
    expect(markers).toEqual([
      {
        time: T0 / 1000,
        position: "belowBar",
        shape: "arrowUp",
        color: "blue",
        text: "Buy @ 100.5",
        id: "1"
      },
      {
        time: T0 / 1000 + 3600,
        position: "aboveBar",
        shape: "arrowDown",
        color: "orange",
        text: "Sell @ 100.5",
        id: "2"
      }
    ])
  })
})

describe("statisticRows", () => {
  const stats: BacktestStatistics = {
    totalReturn: 0.125,
    cagr: null,
    volatility: 0.3,
    sharpe: 1.234,
    sortino: null,
    maxDrawdown: 0.2,
    maxDrawdownBars: 5,
    maxDrawdownMs: 5 * HOUR,
    winRate: 0.5,
    profitFactor: null,
    exposure: 0.75,
    trades: 4
  }
  const read = (s: Parameters<(typeof statisticRows)[number]["value"]>[0]) =>
    Object.fromEntries(statisticRows.map((r) => [r.key, r.value(s)]))

  it("reads every statistic, with a dash for an undefined one", () => {
    const values = read(stats)
    expect(values.totalReturn).toMatch(/12\.5\s?%/)
    expect(values.cagr).toBe("—")
    expect(values.sharpe).toBe("1.23")
    expect(values.maxDrawdown).toMatch(/-20\s?%/)
    expect(values.maxDrawdownDuration).toBe("5 bars (5.0 h)")
    expect(values.profitFactor).toBe("—")
    expect(values.trades).toBe("4")
  })

  it("shows a benchmark's trade statistics as dashes", () => {
    const { winRate, profitFactor, exposure, trades, ...returns } = stats
    const values = read(returns)
    expect([values.winRate, values.profitFactor, values.exposure, values.trades]).toEqual([
      "—",
      "—",
      "—",
      "—"
    ])
    expect(values.maxDrawdown).toMatch(/-20\s?%/)
  })
})

describe("strategyManifestOf", () => {
  const version = (manifest: CodeVersion["manifest"]) =>
    new CodeVersion({
      name: ProviderName.make("sma-cross"),
      kind: manifest?.kind ?? "strategy",
      language: "typescript",
      version: 1,
      sha256: "0".repeat(64),
      size: 100,
      manifest,
      status: "valid",
      validation: null,
      builtIn: false,
      createdAt: DateTime.unsafeMake(T0)
    })
  const strategy = {
    kind: "strategy",
    name: ProviderName.make("sma-cross"),
    version: "1.0.0",
    params: [fast],
    universe: {
      timeframe: "1h",
      symbols: ["BTC/USD", { provider: ProviderName.make("kraken"), symbol: "XBT/USD" }]
    },
    warmup: 30
  } as const

  it("is a strategy version's manifest, null for a provider's or none", () => {
    expect(strategyManifestOf(version(strategy))).toEqual(strategy)
    expect(
      strategyManifestOf(
        version({
          kind: "provider",
          name: ProviderName.make("p"),
          displayName: "P",
          version: "1",
          capabilities: [],
          timeframes: [],
          settings: []
        })
      )
    ).toBeNull()
    expect(strategyManifestOf(version(null))).toBeNull()
    expect(strategy.universe.symbols.map(memberKey)).toEqual(["BTC/USD", "kraken:XBT/USD"])
  })
})

describe("memberQuery", () => {
  const inputs = { provider: "synthetic", timeframe: "1h", from: T0, to: T0 + 24 * HOUR } as BacktestInputs
  it("reads a common symbol through the run's provider and a pair as it is", () => {
    expect(memberQuery(inputs, "BTC/USD")).toEqual({
      provider: "synthetic",
      commonSymbol: "BTC/USD",
      timeframe: "1h",
      from: "2024-01-01T00:00:00.000Z",
      to: "2024-01-02T00:00:00.000Z"
    })
    expect(memberQuery(inputs, "kraken:XBT/USD")).toMatchObject({ provider: "kraken", symbol: "XBT/USD" })
  })
})

describe("thinned", () => {
  it("keeps every k-th point and the last, at most the maximum", () => {
    const points = Array.from({ length: 10 }, (_, i) => i)
    expect(thinned(points, 20)).toBe(points)
    expect(thinned(points, 4)).toEqual([0, 3, 6, 9])
    expect(thinned(points, 3)).toEqual([0, 4, 8, 9])
  })
})
