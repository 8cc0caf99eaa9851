/**
 * Shared by the backtest benchmarks: their bars (a fixed-seed random walk of one-minute bars) and
 * their baseline, the SMA crossover of `strategies/smaCross.ts` written by hand as a plain loop
 * over the Float64Array columns, with the same indicator objects (trading-signals' SMA) and the
 * same fill rule (a market order decided at a close fills at the next open, fees and slippage on
 * top).
 */
import { SMA } from "trading-signals"

export const FAST = 20
export const SLOW = 100
export const FRACTION = 0.95
export const FEE_BPS = 10
export const SLIPPAGE_BPS = 5
export const INITIAL_CASH = 10_000
export const START = Date.UTC(2020, 0, 1)
export const MINUTE = 60_000

export interface Columns {
  readonly ts: Float64Array<ArrayBuffer>
  readonly open: Float64Array<ArrayBuffer>
  readonly high: Float64Array<ArrayBuffer>
  readonly low: Float64Array<ArrayBuffer>
  readonly close: Float64Array<ArrayBuffer>
  readonly volume: Float64Array<ArrayBuffer>
}

/** `n` one-minute bars from `START`: a random walk in log price (no drift, so nothing compounds out of range). */
export const makeBars = (n: number): Columns => {
  const c = {
    ts: new Float64Array(n),
    open: new Float64Array(n),
    high: new Float64Array(n),
    low: new Float64Array(n),
    close: new Float64Array(n),
    volume: new Float64Array(n)
  }
  let seed = 12_345
  const uniform = () => {
    seed = (Math.imul(seed, 1_664_525) + 1_013_904_223) >>> 0
    return seed / 2 ** 32 - 0.5
  }
  let price = 100
  for (let i = 0; i < n; i++) {
    const open = price
    price *= Math.exp(uniform() * 0.002)
    c.ts[i] = START + i * MINUTE
    c.open[i] = open
    c.close[i] = price
    c.high[i] = Math.max(open, price) * 1.0005
    c.low[i] = Math.min(open, price) * 0.9995
    c.volume[i] = 1 + (i % 7)
  }
  return c
}

/** The strategy by hand: the pending order decided at a close, filled at the next open. */
export const plainLoop = (bars: Columns) => {
  const n = bars.ts.length
  const fee = FEE_BPS / 10_000
  const slip = SLIPPAGE_BPS / 10_000
  const fraction = FRACTION
  const fastSma = new SMA(FAST)
  const slowSma = new SMA(SLOW)
  const equity = new Float64Array(n)
  let cash = INITIAL_CASH
  let held = 0
  let pending: "buy" | "sell" | undefined
  let pendingNotional = 0
  let fills = 0
  const { open, close } = bars
  for (let i = 0; i < n; i++) {
    if (pending === "buy") {
      const price = open[i]! * (1 + slip)
      held = pendingNotional / (price * (1 + fee))
      cash -= held * price * (1 + fee)
      fills++
    } else if (pending === "sell") {
      const price = open[i]! * (1 - slip)
      cash += held * price * (1 - fee)
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
        pendingNotional = cash * fraction
      } else if (fast < slow && held > 0) pending = "sell"
    }
    equity[i] = cash + held * c
  }
  return { fills, final: equity[n - 1]! }
}

export const time = <A>(f: () => A): { readonly ms: number; readonly out: A } => {
  const started = performance.now()
  const out = f()
  return { ms: performance.now() - started, out }
}

export const timeAsync = async <A>(
  f: () => Promise<A>
): Promise<{ readonly ms: number; readonly out: A }> => {
  const started = performance.now()
  const out = await f()
  return { ms: performance.now() - started, out }
}
