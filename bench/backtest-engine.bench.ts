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
import { universeKey } from "@quasar/providers/sdk"
import { runBacktest } from "../apps/trader/src/engine/runBacktest"
import type { BarColumns } from "../apps/trader/src/engine/types"
import { FEE_BPS, INITIAL_CASH, makeBars, plainLoop, SLIPPAGE_BPS, time } from "./smaCrossLoop"
import strategy from "./strategies/smaCross"
import { note, peakRssMb, report } from "./support"

const BARS = 1_000_000
const ROUNDS = 3

const viaEngine = (bars: BarColumns) => {
  const outcome = runBacktest({
    strategy,
    codeSha256: "0".repeat(64),
    params: {},
    provider: ProviderName.make("bench"),
    from: bars.ts[0]!,
    to: bars.ts[BARS - 1]! + 60_000,
    initialCash: INITIAL_CASH,
    fill: FillSettings.make({ feeBps: FEE_BPS, slippageBps: SLIPPAGE_BPS }),
    bars: new Map([[universeKey(strategy.universe.symbols[0]!), bars]])
  })
  if (!outcome.ok) throw new Error(outcome.problems.join("; "))
  if (outcome.result.status !== "completed") throw new Error(`engine run ${outcome.result.status}`)
  return { fills: outcome.result.fills.length, final: outcome.result.equity.equity.at(-1)! }
}

const bars = makeBars(BARS)
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
