import { defineStrategy } from "@quasar/providers/sdk"

/** The README's example: long when the fast SMA is above the slow one, flat otherwise. */
export const smaCross = defineStrategy({
  name: "sma-cross",
  version: "1.0.0",
  params: {
    fast: { type: "integer", default: 10, min: 2, max: 200, label: "Fast SMA" },
    slow: { type: "integer", default: 30, min: 3, max: 500, label: "Slow SMA" },
    fraction: { type: "number", default: 0.95, min: 0.01, max: 1, label: "Cash per entry" }
  },
  universe: { timeframe: "1m", symbols: ["BTC/USD"] },
  warmup: 30,
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
