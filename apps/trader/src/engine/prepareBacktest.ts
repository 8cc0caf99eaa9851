import { resolveParams, universeKey } from "@quasar/providers/sdk"
import { BacktestRun, blockProblem, type RunSetup } from "./BacktestRun"
import type { BacktestInput } from "./types"

export type PreparedBacktest =
  | { readonly ok: true; readonly run: BacktestRun }
  | { readonly ok: false; readonly problems: ReadonlyArray<string> }

const DEFAULT_WINDOW = 200
const MAX_WINDOW = 100_000

const wholeCount = (x: unknown, max: number): boolean =>
  Number.isInteger(x) && (x as number) >= 0 && (x as number) <= max

export type StartedBacktest =
  | { readonly ok: true; readonly run: BacktestRun; readonly keys: ReadonlyArray<string> }
  | { readonly ok: false; readonly problems: ReadonlyArray<string> }

/**
 * Checks a run's inputs but its bars and sets it up to take them as they arrive, or says
 * everything that is wrong with them (for a 400, not a failed run: nothing ran). `expected`: bars
 * each member is expected to bring (room is made for them; progress counts on them until every
 * member has finished).
 */
export const startBacktest = (
  input: RunSetup,
  expected: (key: string) => number = () => 0
): StartedBacktest => {
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
  if (problems.length > 0 || !params.ok) return { ok: false, problems }
  const members = keys.map((key) => {
    const n = expected(key)
    return { key, expected: wholeCount(n, MAX_EXPECTED) ? n : 0 }
  })
  return { ok: true, run: new BacktestRun(input, params.values, members, windowSize), keys }
}

/** Room made ahead for one member's bars at most; more still fit, by growing. */
const MAX_EXPECTED = 50_000_000

/**
 * Checks a run's inputs and sets it up with all its bars, or says everything that is wrong with
 * them (for a 400, not a failed run: nothing ran).
 */
export const prepareBacktest = (input: BacktestInput): PreparedBacktest => {
  const started = startBacktest(input, (key) => input.bars.get(key)?.ts?.length ?? 0)
  const keys = started.ok ? started.keys : input.strategy.universe.symbols.map(universeKey)
  const problems: Array<string> = started.ok ? [] : [...started.problems]
  for (const key of keys) {
    const columns = input.bars.get(key)
    if (columns === undefined) problems.push(`no bars given for ${key}`)
    else {
      const problem = blockProblem(key, columns, Number.NEGATIVE_INFINITY)
      if (problem !== undefined) problems.push(problem)
    }
  }
  for (const key of input.bars.keys())
    if (!keys.includes(key)) problems.push(`bars given for ${key}, which is not in the universe`)
  if (problems.length > 0 || !started.ok) return { ok: false, problems }
  const { run } = started
  for (const key of keys) run.append(key, input.bars.get(key)!)
  for (const key of keys) run.finish(key)
  return { ok: true, run }
}
