/**
 * The fake Kraken's market: what every bar of every pair is, closed or forming, derived from the
 * deterministic random walk (`barAt`, keyed by the REST pair key) so tests can ask for ground
 * truth.
 *
 * No-trade intervals: on the 1m timeframe only, the minutes whose walk trade count is a multiple of
 * 10 (about 1 in 10) have no trades. REST serves them as flat rows (OHLC = previous close, vwap
 * "0.0", volume 0, count 0, as in the `http_ohlc.json` that nautilus_trader recorded from Kraken);
 * WS sends nothing for them (its updates are generated on trade events,
 * docs.kraken.com/api/docs/websocket-v2/ohlc). In ground truth such a bar is
 * `{ open = high = low = close = previous close, volume: 0, trades: 0 }` with no `vwap`. Higher
 * timeframes always trade.
 */
import type { ProviderBar, Timeframe } from "../../sdk/types"
import { barAt, timeframeMs } from "../../synthetic/randomWalk"
import type { FakePair } from "./pairs"

const DAY = 86_400_000
const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits

/** Open time of the bar containing `t`; weekly bars open on Monday like `barsBetween`'s. */
export const barOpen = (tf: Timeframe, t: number): number => {
  const d = timeframeMs(tf)
  const origin = tf === "1w" ? 4 * DAY : 0
  return Math.floor((t - origin) / d) * d + origin
}

export class FakeMarket {
  /** The last walk bar computed per pair and timeframe: a tick asks for the same bar many times. */
  private readonly recent = new Map<string, ProviderBar>()

  constructor(private readonly seed: number) {}

  private walk(pair: FakePair, tf: Timeframe, ts: number): ProviderBar {
    const key = `${pair.key}|${tf}`
    const known = this.recent.get(key)
    if (known !== undefined && known.ts === ts) return known
    const bar = barAt({ seed: this.seed, basePrice: pair.basePrice }, pair.key, tf, ts)
    this.recent.set(key, bar)
    return bar
  }

  hasTrades(pair: FakePair, tf: Timeframe, ts: number): boolean {
    return tf !== "1m" || (this.walk(pair, tf, ts).trades ?? 1) % 10 !== 0
  }

  /** The final bar opening at `ts` (aligned), as REST serves it once committed. */
  closedBar(pair: FakePair, tf: Timeframe, ts: number, depth = 0): ProviderBar {
    const walk = this.walk(pair, tf, ts)
    if (this.hasTrades(pair, tf, ts)) return walk
    const previous = depth < 100 ? this.closedBar(pair, tf, ts - timeframeMs(tf), depth + 1).close : walk.open
    return { ts, open: previous, high: previous, low: previous, close: previous, volume: 0, trades: 0 }
  }

  /**
   * The bar opening at `ts` as it stands at `now`: it moves from its open towards the final
   * values as the interval passes, and equals `closedBar` once `now` reaches the interval's end.
   */
  formingBar(pair: FakePair, tf: Timeframe, ts: number, now: number): ProviderBar {
    const final = this.closedBar(pair, tf, ts)
    const f = Math.min(1, Math.max(0.02, (now - ts) / timeframeMs(tf)))
    if (f >= 1 || final.trades === 0) return final
    const { open } = final
    const close = round(open + (final.close - open) * f, 4)
    const high = round(Math.max(open, close) + (final.high - Math.max(open, final.close)) * f, 4)
    const low = round(Math.min(open, close) - (Math.min(open, final.close) - final.low) * f, 4)
    const trades = Math.max(1, Math.round((final.trades ?? 1) * f))
    const volume = round(final.volume * f, 8)
    return { ts, open, high, low, close, volume, vwap: round((open + high + low + close) / 4, 4), trades }
  }

  /** Every closed bar in [from, to) with its interval ended by `now`, as REST serves them. */
  closedBars(pair: FakePair, tf: Timeframe, from: number, to: number, now: number): Array<ProviderBar> {
    const d = timeframeMs(tf)
    const out: Array<ProviderBar> = []
    const first = barOpen(tf, from) < from ? barOpen(tf, from) + d : barOpen(tf, from)
    for (let ts = first; ts < to && ts + d <= now; ts += d) out.push(this.closedBar(pair, tf, ts))
    return out
  }
}
