/**
 * The synthetic provider: deterministic bars from `randomWalk` for any symbol, range and
 * timeframe, plus a live feed whose forming bars converge on the same ground truth. Written as
 * third-party code would be (SDK only, no Node, no Effect) so it exercises the real contract.
 */
import { defineProvider } from "../sdk/defineProvider"
import { FatalError } from "../sdk/errors"
import { sleep } from "../sdk/sleep"
import type { AssetInfo, HistoryPage, LiveEvent, ProviderBar, Timeframe } from "../sdk/types"
import { barAt, barsBetween, timeframeMs, type WalkOptions } from "./randomWalk"

const PAGE_SIZE = 1_000
/** After a stall (sleeping laptop, paused debugger) the host fills gaps from history instead. */
const MAX_CATCH_UP = 1_000
/** Weekly bars open on Monday 00:00 UTC; 1970-01-01 was a Thursday. */
const WEEK_ORIGIN = 4 * 86_400_000

const barOpen = (tf: Timeframe, t: number): number => {
  const d = timeframeMs(tf)
  const origin = tf === "1w" ? WEEK_ORIGIN : 0
  return Math.floor((t - origin) / d) * d + origin
}

const parseSymbols = (list: string): Array<string> =>
  list
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0)

const assetOf = (symbol: string): AssetInfo => {
  const [base, quote, ...rest] = symbol.split("/")
  return base && quote && rest.length === 0
    ? { symbol, name: `Synthetic ${base}/${quote}`, assetClass: "crypto", base, quote, currency: quote }
    : { symbol, name: `Synthetic ${symbol}`, assetClass: "equity", currency: "USD" }
}

const round = (x: number) => Math.round(x * 1e4) / 1e4

/**
 * The bar at fraction `progress` of its life: prices move from the open toward the final close
 * and the extremes widen toward the final high/low, so at progress 1 it is exactly `final`.
 */
const formingBar = (final: ProviderBar, progress: number): ProviderBar => {
  if (progress >= 1) return final
  const p = Math.max(0, progress)
  const close = round(final.open + (final.close - final.open) * p)
  const high = round(Math.max(final.open, close) + (final.high - Math.max(final.open, final.close)) * p)
  const low = round(Math.min(final.open, close) - (Math.min(final.open, final.close) - final.low) * p)
  return {
    ts: final.ts,
    open: final.open,
    high,
    low,
    close,
    volume: round(final.volume * p),
    vwap: round((final.open + high + low + close) / 4),
    trades: Math.floor((final.trades ?? 0) * p)
  }
}

export const syntheticProvider = defineProvider({
  name: "synthetic",
  displayName: "Synthetic data",
  version: "1.0.0",
  timeframes: ["1m", "5m", "15m", "30m", "1h", "4h", "1d", "1w"],
  settings: {
    symbols: {
      type: "string",
      label: "Symbols",
      description: "Comma-separated; BASE/QUOTE symbols are listed as crypto pairs, others as equities",
      default: "SYN/USD,SYN/EUR,ACME"
    },
    seed: { type: "number", label: "Seed", description: "Same seed, same bars", default: 42 },
    updateMs: {
      type: "number",
      label: "Live update interval (ms)",
      description: "How often a forming bar is pushed",
      default: 1_000,
      // Faster than 10 updates a second per symbol only loads the feed; nobody reads it.
      min: 100
    }
  },

  listAssets: async (ctx) => parseSymbols(ctx.settings.symbols).map(assetOf),

  async *history(ctx, { symbol, timeframe, from, to }): AsyncIterable<HistoryPage> {
    const served = parseSymbols(ctx.settings.symbols)
    if (!served.includes(symbol))
      throw new FatalError(
        `unknown symbol ${symbol}: this provider serves ${served.slice(0, 10).join(", ")}${
          served.length > 10 ? ` and ${served.length - 10} more (see its assets)` : ""
        }; add it to the "symbols" setting`
      )
    const walk: WalkOptions = { seed: ctx.settings.seed }
    const d = timeframeMs(timeframe)
    // Closed bars only: the last one opens a full bar before the current one.
    const end = Math.min(to, barOpen(timeframe, ctx.now()))
    for (let start = from; start < end && !ctx.signal.aborted; start += PAGE_SIZE * d) {
      const bars = barsBetween(walk, symbol, timeframe, start, Math.min(end, start + PAGE_SIZE * d))
      if (bars.length > 0) yield { bars }
    }
  },

  async *live(ctx, { symbols, timeframe }): AsyncIterable<LiveEvent> {
    const known = new Set(parseSymbols(ctx.settings.symbols))
    const walk: WalkOptions = { seed: ctx.settings.seed }
    const d = timeframeMs(timeframe)
    const live: Array<string> = []
    for (const symbol of symbols) {
      if (known.has(symbol)) {
        live.push(symbol)
        yield { type: "subscribed", symbol }
      } else yield { type: "rejected", symbol, reason: "unknown symbol" }
    }
    // The first bar that closes while subscribed is the one forming now.
    let nextClose = barOpen(timeframe, ctx.now())
    while (!ctx.signal.aborted) {
      const now = ctx.now()
      const open = barOpen(timeframe, now)
      if (open - nextClose > MAX_CATCH_UP * d) nextClose = open - MAX_CATCH_UP * d
      for (; nextClose + d <= now; nextClose += d)
        for (const symbol of live)
          yield { type: "bar", symbol, bar: barAt(walk, symbol, timeframe, nextClose), closed: true }
      for (const symbol of live)
        yield {
          type: "bar",
          symbol,
          bar: formingBar(barAt(walk, symbol, timeframe, open), (now - open) / d),
          closed: false
        }
      yield { type: "heartbeat" }
      await sleep(ctx.settings.updateMs, ctx.signal)
    }
  }
})

export default syntheticProvider
