/**
 * Statistics of a run, defined in the README's "Statistics". Equity point `i` is the equity at
 * the close of traded bar `i`; before the first bar the equity is the initial cash.
 */
import type { BacktestStatistics, ReturnStatistics } from "@quasar/domain"

export const YEAR_MS = 365.25 * 86_400_000

const orNull = (x: number): number | null => (Number.isFinite(x) ? x : null)

/**
 * @param equity equity at each traded bar's close
 * @param ts each traded bar's open time
 * @param barMs the length of one bar
 */
export const returnStatistics = (
  equity: ArrayLike<number>,
  ts: ArrayLike<number>,
  initial: number,
  barMs: number
): ReturnStatistics => {
  const n = equity.length
  if (n === 0)
    return {
      totalReturn: 0,
      cagr: null,
      volatility: null,
      sharpe: null,
      sortino: null,
      maxDrawdown: 0,
      maxDrawdownBars: 0,
      maxDrawdownMs: 0
    }
  const final = equity[n - 1]!
  const years = (ts[n - 1]! + barMs - ts[0]!) / YEAR_MS
  const periodsPerYear = n / years

  let sum = 0
  let downside = 0
  let previous = initial
  for (let i = 0; i < n; i++) {
    const r = equity[i]! / previous - 1
    sum += r
    if (r < 0) downside += r * r
    previous = equity[i]!
  }
  const mean = sum / n
  let squares = 0
  previous = initial
  for (let i = 0; i < n; i++) {
    const d = equity[i]! / previous - 1 - mean
    squares += d * d
    previous = equity[i]!
  }
  const std = n > 1 ? Math.sqrt(squares / (n - 1)) : Number.NaN
  const downsideDeviation = Math.sqrt(downside / n)
  const annualise = Math.sqrt(periodsPerYear)

  // Drawdowns: the peak starts as the initial cash, at the first bar's open.
  let peak = initial
  let peakTime = ts[0]!
  let underwater = 0
  let maxDrawdown = 0
  let maxDrawdownBars = 0
  let maxDrawdownMs = 0
  for (let i = 0; i < n; i++) {
    const e = equity[i]!
    const closeTime = ts[i]! + barMs
    if (e >= peak) {
      peak = e
      peakTime = closeTime
      underwater = 0
      continue
    }
    underwater++
    maxDrawdown = Math.max(maxDrawdown, 1 - e / peak)
    if (underwater > maxDrawdownBars) maxDrawdownBars = underwater
    maxDrawdownMs = Math.max(maxDrawdownMs, closeTime - peakTime)
  }

  return {
    totalReturn: final / initial - 1,
    cagr: years > 0 ? (final > 0 ? (final / initial) ** (1 / years) - 1 : -1) : null,
    volatility: orNull(std * annualise),
    sharpe: std > 0 ? orNull((mean / std) * annualise) : null,
    sortino: downsideDeviation > 0 ? orNull((mean / downsideDeviation) * annualise) : null,
    maxDrawdown,
    maxDrawdownBars,
    maxDrawdownMs
  }
}

/**
 * @param tradeResults profit or loss of each closed round trip, fees included
 * @param exposedBars traded bars at whose close a position was held
 */
export const tradeStatistics = (
  tradeResults: ReadonlyArray<number>,
  exposedBars: number,
  bars: number
): Pick<BacktestStatistics, "winRate" | "profitFactor" | "exposure" | "trades"> => {
  let wins = 0
  let profit = 0
  let loss = 0
  for (const r of tradeResults) {
    if (r > 0) {
      wins++
      profit += r
    } else loss -= r
  }
  const trades = tradeResults.length
  return {
    winRate: trades > 0 ? wins / trades : null,
    profitFactor: loss > 0 ? profit / loss : null,
    exposure: bars > 0 ? exposedBars / bars : 0,
    trades
  }
}
