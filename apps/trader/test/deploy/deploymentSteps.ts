/** What the deployment reducer's tests share: the time line, the risk limits, bars, and running inputs through `step`. */
import type { Bar } from "@quasar/providers/sdk"
import * as Deployment from "../../src/deploy/DeploymentState"
import { DAY_MS } from "../../src/deploy/RiskLimits"

export const MINUTE = 60_000
export const T0 = 20 * DAY_MS
export const limits = { maxOrderNotional: 5_000, maxPositionNotional: 8_000, maxDailyLoss: 500 }

/** The `i`th minute bar after T0, all four prices at `price`. */
export const bar = (i: number, price: number, symbol = "BTC/USD"): Bar => ({
  symbol,
  ts: T0 + i * MINUTE,
  open: price,
  high: price,
  low: price,
  close: price,
  volume: 1
})

/** Runs the inputs, keeping every event (what the fiber persists) and whether the last asks for a decision. */
export const run = (state: Deployment.DeploymentState, inputs: ReadonlyArray<Deployment.DeploymentInput>) => {
  const events: Array<Deployment.DeploymentEvent> = []
  let decide = false
  for (const input of inputs) {
    const step = Deployment.step(state, input)
    state = step.state
    decide = step.decide
    events.push(...step.events)
  }
  return { state, events, decide }
}

/** The audit entries among `events`, as `kind:decision`. */
export const audits = (events: ReadonlyArray<Deployment.DeploymentEvent>) =>
  events.flatMap((e) => (e.type === "audit" ? [`${e.entry.kind}:${e.entry.decision}`] : []))
