import { FillSettings, ProviderName } from "@quasar/domain"
import { defineStrategy, type ParamsSpec, type Strategy, type StrategyContext } from "@quasar/providers/sdk"
import type { BacktestInput, BarColumns } from "../../src/engine/types"

export const DAY = 86_400_000
export const SHA = "a".repeat(64)

/** Columns from [ts, open, high, low, close] rows (volume 1). */
export const columns = (
  rows: ReadonlyArray<readonly [number, number, number, number, number]>
): BarColumns => ({
  ts: Float64Array.from(rows, (r) => r[0]),
  open: Float64Array.from(rows, (r) => r[1]),
  high: Float64Array.from(rows, (r) => r[2]),
  low: Float64Array.from(rows, (r) => r[3]),
  close: Float64Array.from(rows, (r) => r[4]),
  volume: Float64Array.from(rows, () => 1)
})

/** Daily bars whose open, high, low and close all equal the given price. */
export const flatBars = (prices: ReadonlyArray<number>, start = 0): BarColumns =>
  columns(prices.map((p, i) => [start + i * DAY, p, p, p, p] as const))

/** A deterministic random walk (LCG), `n` one-minute bars. */
export const walk = (n: number, seed = 1): BarColumns => {
  let state = seed >>> 0
  const next = () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0
    return state / 2 ** 32
  }
  const out = {
    ts: new Float64Array(n),
    open: new Float64Array(n),
    high: new Float64Array(n),
    low: new Float64Array(n),
    close: new Float64Array(n),
    volume: new Float64Array(n)
  }
  let price = 100
  for (let i = 0; i < n; i++) {
    const open = price
    price = Math.max(1, price * (1 + (next() - 0.5) * 0.02))
    out.ts[i] = i * 60_000
    out.open[i] = open
    out.close[i] = price
    out.high[i] = Math.max(open, price) * (1 + next() * 0.003)
    out.low[i] = Math.min(open, price) * (1 - next() * 0.003)
    out.volume[i] = 1 + next()
  }
  return out
}

/** A strategy over the given symbols that runs `onBar` and nothing else. */
export const scripted = (
  onBar: (ctx: StrategyContext, bars: Parameters<Strategy["onBar"]>[1]) => void,
  symbols: ReadonlyArray<string> = ["BTC/USD"],
  timeframe: "1d" | "1m" = "1d"
): Strategy =>
  defineStrategy({
    name: "scripted",
    version: "1.0.0",
    params: {} as ParamsSpec,
    universe: { timeframe, symbols },
    warmup: 0,
    onBar
  })

/** A run's inputs over `bars`: their whole range, 1,000 cash, no fees or slippage. */
export const runInputs = (bars: Readonly<Record<string, BarColumns>>): Omit<BacktestInput, "strategy"> => {
  const all = Object.values(bars).flatMap((c) => Array.from(c.ts))
  return {
    codeSha256: SHA,
    params: {},
    provider: ProviderName.make("kraken"),
    from: Math.min(...all),
    to: Math.max(...all) + 1,
    initialCash: 1_000,
    fill: FillSettings.make({ feeBps: 0, slippageBps: 0 }),
    bars: new Map(Object.entries(bars))
  }
}

export const input = (
  strategy: Strategy,
  bars: Readonly<Record<string, BarColumns>>,
  overrides: Partial<BacktestInput> = {}
): BacktestInput => ({ strategy, ...runInputs(bars), ...overrides })
