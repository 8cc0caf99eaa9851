import { describe, expect, it } from "@effect/vitest"
import type { Bar } from "@quasar/providers/sdk"
import { accountView } from "../../src/deploy/accountView"
import * as Deployment from "../../src/deploy/DeploymentState"
import { LiveRun } from "../../src/engine/LiveRun"
import { runBacktest } from "../../src/engine/runBacktest"
import * as Paper from "../../src/paper/PaperAccount"
import { SHA, scripted, walk } from "../engine/fixtures"
import { smaCross } from "../engine/smaCross"

const bars = walk(600, 3)
const barAt = (i: number): Bar => ({
  symbol: "BTC/USD",
  ts: bars.ts[i]!,
  open: bars.open[i]!,
  high: bars.high[i]!,
  low: bars.low[i]!,
  close: bars.close[i]!,
  volume: bars.volume[i]!
})
const limits = { maxOrderNotional: 1e9, maxPositionNotional: 1e9, maxDailyLoss: 1e9 }
const params = { fast: 5, slow: 20 }
const WARMUP = 30

describe("LiveRun", () => {
  it("trades the README's SMA cross bar by bar on paper at the same bars and sides as its backtest", () => {
    const ran = runBacktest({
      strategy: smaCross,
      codeSha256: SHA,
      params,
      provider: "kraken" as never,
      from: bars.ts[WARMUP]!,
      to: bars.ts[599]! + 60_000,
      initialCash: 10_000,
      fill: { feeBps: 10, slippageBps: 5 },
      bars: new Map([["BTC/USD", bars]])
    })
    if (!ran.ok) throw new Error(ran.problems.join())
    const backtest = ran.result
    const prepared = LiveRun.prepare(smaCross, params)
    if (!prepared.ok) throw new Error(prepared.problems.join())
    const run = prepared.run
    for (let i = 0; i < WARMUP; i++) run.push(barAt(i))
    let state = Deployment.start(
      1,
      limits,
      ["BTC/USD"],
      Paper.openAccount({ quote: "USD", feeBps: 10, slippageBps: 5 }, 10_000)
    )
    const fills = []
    for (let i = WARMUP; i < 600; i++) {
      const bar = barAt(i)
      const onBar = Deployment.step(state, { type: "bar", bar })
      state = onBar.state
      fills.push(...onBar.events.flatMap((e) => (e.type === "fill" ? [e.fill] : [])))
      const decision = run.decide([bar], accountView(state))
      state = Deployment.step(state, { type: "decision", ts: bar.ts, ...decision }).state
    }
    expect(backtest.fills.length).toBeGreaterThan(4)
    expect(fills.map((f) => [f.ts, f.side])).toEqual(backtest.fills.map((f) => [f.ts, f.side]))
    expect(fills.map((f) => f.price)).toEqual(backtest.fills.map((f) => f.price))
  })

  it("gives the strategy its open orders under the ids ctx.order returned, and takes its cancels", () => {
    const seen: Array<ReadonlyArray<number>> = []
    const strategy = scripted((ctx) => {
      seen.push(ctx.openOrders.map((o) => o.id))
      if (ctx.openOrders.length === 0) {
        const id = ctx.order({ symbol: "BTC/USD", side: "buy", type: "limit", quantity: 1, limitPrice: 1 })
        ctx.order({ symbol: "BTC/USD", side: "buy", type: "limit", quantity: 1, limitPrice: 2 })
        ctx.cancel(id)
      } else ctx.cancel(ctx.openOrders[0]!.id)
    })
    const prepared = LiveRun.prepare(strategy, {})
    if (!prepared.ok) throw new Error(prepared.problems.join())
    let state = Deployment.start(
      1,
      limits,
      ["BTC/USD"],
      Paper.openAccount({ quote: "USD", feeBps: 0, slippageBps: 0 }, 100)
    )
    for (const i of [0, 1, 2]) {
      state = Deployment.step(state, { type: "bar", bar: barAt(i) }).state
      const decision = prepared.run.decide([barAt(i)], accountView(state))
      state = Deployment.step(state, { type: "decision", ts: barAt(i).ts, ...decision }).state
    }
    expect(seen).toEqual([[], [2], []])
    expect(Paper.openOrders(state.account).map((o) => o.limitPrice)).toEqual([2])
  })
})
