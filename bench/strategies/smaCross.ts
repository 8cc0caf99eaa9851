/**
 * The benchmarks' SMA crossover (20/100, 95 % of cash per entry), one module for both: the engine
 * benchmark imports it, the end-to-end one uploads this very file to the Registry as strategy
 * code. So it imports nothing but the SDK. Its universe is one provider/symbol pair, so a backtest
 * needs no symbol mapping.
 */
import { defineStrategy } from "@quasar/providers/sdk"

export default defineStrategy({
  name: "sma-cross",
  version: "1.0.0",
  params: {
    fast: { type: "integer", default: 20, min: 2 },
    slow: { type: "integer", default: 100, min: 3 },
    fraction: { type: "number", default: 0.95, min: 0.01, max: 1 }
  },
  universe: { timeframe: "1m", symbols: [{ provider: "bench", symbol: "BENCH/USD" }] },
  warmup: 100,
  onBar(ctx, bars) {
    for (const bar of bars) {
      const fast = ctx.sma(bar.symbol, ctx.params.fast)
      const slow = ctx.sma(bar.symbol, ctx.params.slow)
      if (fast === undefined || slow === undefined) continue
      const held = ctx.position(bar.symbol).quantity
      if (fast > slow && held === 0 && ctx.openOrders.length === 0)
        ctx.order({
          symbol: bar.symbol,
          side: "buy",
          notional: ctx.cash * ctx.params.fraction,
          type: "market"
        })
      else if (fast < slow && held > 0)
        ctx.order({ symbol: bar.symbol, side: "sell", quantity: held, type: "market" })
    }
  }
})
