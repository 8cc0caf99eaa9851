import { resolveParams, universeKey } from "@quasar/providers/sdk"
import { BacktestRun } from "./BacktestRun"
import type { BacktestInput, BarColumns } from "./types"

export type PreparedBacktest =
  | { readonly ok: true; readonly run: BacktestRun }
  | { readonly ok: false; readonly problems: ReadonlyArray<string> }

const COLUMNS = ["ts", "open", "high", "low", "close", "volume"] as const
const DEFAULT_WINDOW = 200
const MAX_WINDOW = 100_000

const columnsProblem = (key: string, columns: BarColumns): string | undefined => {
  const n = columns.ts.length
  for (const name of COLUMNS)
    if (!(columns[name] instanceof Float64Array) || columns[name].length !== n)
      return `${key}: column ${name} must be a Float64Array of ${n} values, like ts`
  const ts = columns.ts
  for (let i = 1; i < n; i++)
    if (!(ts[i]! > ts[i - 1]!))
      return `${key}: timestamps must rise strictly (bar ${i} is not after bar ${i - 1})`
  return undefined
}

const wholeCount = (x: unknown, max: number): boolean =>
  Number.isInteger(x) && (x as number) >= 0 && (x as number) <= max

/** First index whose time is at or after `t` (binary search: bars are sorted). */
const firstAtOrAfter = (ts: Float64Array, t: number): number => {
  let lo = 0
  let hi = ts.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (ts[mid]! < t) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** The distinct bar times of all symbols before `ends`, ascending. */
const mergeTimes = (
  series: ReadonlyArray<{ readonly ts: Float64Array; readonly end: number }>
): Float64Array => {
  if (series.length === 1) return series[0]!.ts.subarray(0, series[0]!.end)
  const all = new Float64Array(series.reduce((n, s) => n + s.end, 0))
  let at = 0
  for (const s of series) {
    all.set(s.ts.subarray(0, s.end), at)
    at += s.end
  }
  all.sort()
  let distinct = 0
  for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[distinct - 1]) all[distinct++] = all[i]!
  return all.subarray(0, distinct)
}

/**
 * Checks a run's inputs and sets it up, or says everything that is wrong with them (for a 400,
 * not a failed run: nothing ran).
 */
export const prepareBacktest = (input: BacktestInput): PreparedBacktest => {
  const problems: Array<string> = []
  const { strategy } = input
  const params = resolveParams(strategy.params, input.params)
  if (!params.ok) problems.push(...params.problems)
  if (!/^[0-9a-f]{64}$/.test(input.codeSha256)) problems.push("codeSha256 must be 64 lower-case hex digits")
  if (!wholeCount(input.from, Number.MAX_SAFE_INTEGER) || !wholeCount(input.to, Number.MAX_SAFE_INTEGER))
    problems.push("from and to must be whole epoch milliseconds")
  else if (input.from >= input.to) problems.push("from must be before to")
  if (!(Number.isFinite(input.initialCash) && input.initialCash > 0))
    problems.push("initialCash must be a finite number above 0")
  for (const name of ["feeBps", "slippageBps"] as const) {
    const bps = input.fill[name]
    if (!(Number.isFinite(bps) && bps >= 0 && bps <= 1_000))
      problems.push(`fill.${name} must be from 0 to 1000`)
  }
  if (!wholeCount(strategy.warmup, MAX_WINDOW))
    problems.push(`warmup must be a whole number up to ${MAX_WINDOW}`)
  const windowSize = strategy.window ?? Math.max(DEFAULT_WINDOW, strategy.warmup)
  if (!wholeCount(windowSize, MAX_WINDOW) || windowSize < 1 || windowSize < strategy.warmup)
    problems.push(`window must be a whole number from warmup (and 1) to ${MAX_WINDOW}`)
  const keys = strategy.universe.symbols.map(universeKey)
  if (keys.length === 0) problems.push("the universe is empty")
  if (new Set(keys).size !== keys.length) problems.push("the universe names a symbol twice")
  for (const key of keys) {
    const columns = input.bars.get(key)
    if (columns === undefined) problems.push(`no bars given for ${key}`)
    else {
      const problem = columnsProblem(key, columns)
      if (problem !== undefined) problems.push(problem)
    }
  }
  for (const key of input.bars.keys())
    if (!keys.includes(key)) problems.push(`bars given for ${key}, which is not in the universe`)
  if (problems.length > 0 || !params.ok) return { ok: false, problems }

  const series = keys.map((key) => {
    const columns = input.bars.get(key)!
    return { key, columns, ts: columns.ts, end: firstAtOrAfter(columns.ts, input.to) }
  })
  const times = mergeTimes(series)
  return {
    ok: true,
    run: new BacktestRun(input, params.values, series, times, firstAtOrAfter(times, input.from), windowSize)
  }
}
