/**
 * The statistics table's rows, in the README's order: each statistic's label and how it reads
 * (percentages for returns, plain ratios, counts, a drawdown's length in bars and time). A run's
 * benchmark has only the return statistics; its trade rows show a dash.
 */
import type { BacktestStatistics, ReturnStatistics } from "@quasar/domain"
import { formatCount, formatDuration } from "../format"

export type AnyStatistics = ReturnStatistics | BacktestStatistics

export interface StatisticRow {
  readonly key: string
  readonly label: string
  readonly value: (s: AnyStatistics) => string
}

const percent = new Intl.NumberFormat(undefined, { style: "percent", maximumFractionDigits: 2 })
const ratio = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 })

const dash = "—"
const pct = (n: number | null | undefined) => (n === null || n === undefined ? dash : percent.format(n))
const num = (n: number | null | undefined) => (n === null || n === undefined ? dash : ratio.format(n))

const tradeStat = <K extends "winRate" | "profitFactor" | "exposure" | "trades">(
  s: AnyStatistics,
  key: K
): BacktestStatistics[K] | undefined => ("trades" in s ? s[key] : undefined)

export const statisticRows: ReadonlyArray<StatisticRow> = [
  { key: "totalReturn", label: "Total return", value: (s) => pct(s.totalReturn) },
  { key: "cagr", label: "CAGR", value: (s) => pct(s.cagr) },
  { key: "volatility", label: "Volatility (annualised)", value: (s) => pct(s.volatility) },
  { key: "sharpe", label: "Sharpe", value: (s) => num(s.sharpe) },
  { key: "sortino", label: "Sortino", value: (s) => num(s.sortino) },
  { key: "maxDrawdown", label: "Max drawdown", value: (s) => pct(s.maxDrawdown === 0 ? 0 : -s.maxDrawdown) },
  {
    key: "maxDrawdownDuration",
    label: "Max drawdown duration",
    value: (s) =>
      s.maxDrawdownBars === 0
        ? dash
        : `${formatCount(s.maxDrawdownBars)} bars (${formatDuration(s.maxDrawdownMs / 1000)})`
  },
  { key: "winRate", label: "Win rate", value: (s) => pct(tradeStat(s, "winRate")) },
  { key: "profitFactor", label: "Profit factor", value: (s) => num(tradeStat(s, "profitFactor")) },
  { key: "exposure", label: "Exposure", value: (s) => pct(tradeStat(s, "exposure")) },
  {
    key: "trades",
    label: "Trades",
    value: (s) => {
      const n = tradeStat(s, "trades")
      return n === undefined ? dash : formatCount(n)
    }
  }
]

export const formatPercent = pct
