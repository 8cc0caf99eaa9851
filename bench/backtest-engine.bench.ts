/**
 * 1,000,000 one-minute bars of one symbol through an SMA-crossover strategy (20/100, 95 % of cash
 * per entry, 10 bp fee, 5 bp slippage): in the backtest engine, against the same strategy as a
 * plain loop over the Float64Array columns. The loop uses the same indicator objects
 * (trading-signals' SMA) and the same fill rule (market orders at the next open), so the ratio
 * is what the engine's bookkeeping costs: orders, fills, the window, the per-bar equity and
 * benchmark, the statistics. Best of three alternating rounds each. Target: at least 500,000 bars/s
 * and at least 0.3× the plain loop.
 */
import { FillSettings, ProviderName } from "@quasar/domain"
import { defineStrategy } from "@quasar/providers/sdk"
import { SMA } from "trading-signals"
import { runBacktest } from "../apps/trader/src/engine/runBacktest"
import type { BarColumns } from "../apps/trader/src/engine/types"
import { note, peakRssMb, report } from "./support"

const BARS = 1_000_000
const FAST = 20
const SLOW = 100
const FRACTION = 0.95
const FEE = 10 / 10_000
const SLIP = 5 / 10_000
const ROUNDS = 3

const makeBars = (): BarColumns => {
  const c = {
    ts: new Float64Array(BARS),
    open: new Float64Array(BARS),
    high: new Float64Array(BARS),
    low: new Float64Array(BARS),
    close: new Float64Array(BARS),
    volume: new Float64Array(BARS)
  }
  // A random walk in log price (a fixed-seed LCG): no drift, so nothing compounds out of range.
  let seed = 12_345
  const uniform = () => {
    seed = (Math.imul(seed, 1_664_525) + 1_013_904_223) >>> 0
    return seed / 2 ** 32 - 0.5
  }
  let price = 100
  for (let i = 0; i < BARS; i++) {
    const open = price
    price *= Math.exp(uniform() * 0.002)
    c.ts[i] = Date.UTC(2020, 0, 1) + i * 60_000
    c.open[i] = open
    c.close[i] = price
    c.high[i] = Math.max(open, price) * 1.0005
    c.low[i] = Math.min(open, price) * 0.9995
    c.volume[i] = 1 + (i % 7)
  }
  return c
}

const strategy = defineStrategy({
  name: "sma-cross",
  version: "1.0.0",
  params: {
    fast: { type: "integer", default: FAST, min: 2 },
    slow: { type: "integer", default: SLOW, min: 3 }
  },
  universe: { timeframe: "1m", symbols: ["BTC/USD"] },
  warmup: SLOW,
  onBar(ctx, bars) {
    for (const bar of bars) {
      const fast = ctx.sma(bar.symbol, ctx.params.fast)
      const slow = ctx.sma(bar.symbol, ctx.params.slow)
      if (fast === undefined || slow === undefined) continue
      const held = ctx.position(bar.symbol).quantity
      if (fast > slow && held === 0 && ctx.openOrders.length === 0)
        ctx.order({ symbol: bar.symbol, side: "buy", notional: ctx.cash * FRACTION, type: "market" })
      else if (fast < slow && held > 0)
        ctx.order({ symbol: bar.symbol, side: "sell", quantity: held, type: "market" })
    }
  }
})

const viaEngine = (bars: BarColumns) => {
  const outcome = runBacktest({
    strategy,
    codeSha256: "0".repeat(64),
    params: {},
    provider: ProviderName.make("bench"),
    from: bars.ts[0]!,
    to: bars.ts[BARS - 1]! + 60_000,
    initialCash: 10_000,
    fill: FillSettings.make({ feeBps: 10, slippageBps: 5 }),
    bars: new Map([["BTC/USD", bars]])
  })
  if (!outcome.ok) throw new Error(outcome.problems.join("; "))
  if (outcome.result.status !== "completed") throw new Error(`engine run ${outcome.result.status}`)
  return { fills: outcome.result.fills.length, final: outcome.result.equity.equity.at(-1)! }
}

/** The same strategy by hand: pending order decided at a close, filled at the next open. */
const plainLoop = (bars: BarColumns) => {
  const fastSma = new SMA(FAST)
  const slowSma = new SMA(SLOW)
  const equity = new Float64Array(BARS)
  let cash = 10_000
  let held = 0
  let pending: "buy" | "sell" | undefined
  let pendingNotional = 0
  let fills = 0
  const { open, close } = bars
  for (let i = 0; i < BARS; i++) {
    if (pending === "buy") {
      const price = open[i]! * (1 + SLIP)
      held = pendingNotional / (price * (1 + FEE))
      cash -= held * price * (1 + FEE)
      fills++
    } else if (pending === "sell") {
      const price = open[i]! * (1 - SLIP)
      cash += held * price * (1 - FEE)
      held = 0
      fills++
    }
    pending = undefined
    const c = close[i]!
    const fast = fastSma.add(c)
    const slow = slowSma.add(c)
    if (fast !== null && slow !== null) {
      if (fast > slow && held === 0) {
        pending = "buy"
        pendingNotional = cash * FRACTION
      } else if (fast < slow && held > 0) pending = "sell"
    }
    equity[i] = cash + held * c
  }
  return { fills, final: equity[BARS - 1]! }
}

const time = <A>(f: () => A): { readonly ms: number; readonly out: A } => {
  const started = performance.now()
  const out = f()
  return { ms: performance.now() - started, out }
}

const bars = makeBars()
let engineMs = Number.POSITIVE_INFINITY
let loopMs = Number.POSITIVE_INFINITY
for (let round = 0; round < ROUNDS; round++) {
  const engine = time(() => viaEngine(bars))
  const loop = time(() => plainLoop(bars))
  note(
    `round ${round + 1}: engine ${engine.ms.toFixed(0)} ms (${engine.out.fills} fills, final ${engine.out.final.toFixed(2)}), ` +
      `loop ${loop.ms.toFixed(0)} ms (${loop.out.fills} fills, final ${loop.out.final.toFixed(2)})`
  )
  if (engine.out.fills !== loop.out.fills || Math.abs(engine.out.final / loop.out.final - 1) > 1e-9)
    throw new Error("the engine and the plain loop disagree: they are not running the same strategy")
  engineMs = Math.min(engineMs, engine.ms)
  loopMs = Math.min(loopMs, loop.ms)
}
note(`peak RSS ${peakRssMb()} MB`)
const value = Math.round(BARS / (engineMs / 1_000))
const baseline = Math.round(BARS / (loopMs / 1_000))
const ratio = Math.round((value / baseline) * 1_000) / 1_000
report({
  bench: "backtest-engine",
  value,
  unit: "bars/s",
  baseline,
  ratio,
  target: "≥ 500000 bars/s and ratio ≥ 0.3",
  pass: value >= 500_000 && ratio >= 0.3
})
