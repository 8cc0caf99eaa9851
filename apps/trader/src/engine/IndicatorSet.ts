import type { Bands, BarWindow } from "@quasar/providers/sdk"
import { ATR, BollingerBands, EMA, RSI, SMA } from "trading-signals"

/** One indicator instance fed bar by bar; `value` is undefined until it has enough bars. */
interface Tracker<A> {
  value: A | undefined
  update(high: number, low: number, close: number): void
}

/** Where a new indicator's first values come from: the symbol's window, read only then. */
interface WindowSource {
  read(): BarWindow
}

const MAX_PERIOD = 10_000

const checkPeriod = (name: string, period: number): void => {
  if (!Number.isInteger(period) || period < 1 || period > MAX_PERIOD)
    throw new RangeError(`ctx.${name} needs a whole period from 1 to ${MAX_PERIOD} (got ${period})`)
}

const onClose = <A>(next: (close: number) => A | null): Tracker<A> => {
  const tracker: Tracker<A> = {
    value: undefined,
    update: (_high, _low, close) => {
      tracker.value = next(close) ?? undefined
    }
  }
  return tracker
}

/**
 * The indicators one symbol's strategy code has asked for, keyed by their parameters. A new one
 * is seeded from the symbol's window, then updated with every bar; the formulas are
 * trading-signals' (SMA; EMA seeded with the first close; RSI and ATR with Wilder's smoothing;
 * Bollinger bands from the population standard deviation).
 */
export class IndicatorSet {
  private readonly trackers: Array<Tracker<unknown>> = []
  private readonly sma = new Map<number, Tracker<number>>()
  private readonly ema = new Map<number, Tracker<number>>()
  private readonly rsi = new Map<number, Tracker<number>>()
  private readonly atr = new Map<number, Tracker<number>>()
  private readonly bollinger = new Map<string, Tracker<Bands>>()

  /** Feeds the symbol's newest bar to every indicator asked for so far. */
  update(high: number, low: number, close: number): void {
    const trackers = this.trackers
    for (let i = 0; i < trackers.length; i++) trackers[i]!.update(high, low, close)
  }

  smaOf(period: number, source: WindowSource): number | undefined {
    const found = this.sma.get(period)
    if (found !== undefined) return found.value
    checkPeriod("sma", period)
    const indicator = new SMA(period)
    return this.track(
      this.sma,
      period,
      onClose((c) => indicator.add(c)),
      source
    )
  }

  emaOf(period: number, source: WindowSource): number | undefined {
    const found = this.ema.get(period)
    if (found !== undefined) return found.value
    checkPeriod("ema", period)
    const indicator = new EMA(period)
    // EMA returns a number from the first close; it is only meaningful after `period` closes.
    return this.track(
      this.ema,
      period,
      onClose((c) => {
        const value = indicator.add(c)
        return indicator.isStable ? value : null
      }),
      source
    )
  }

  rsiOf(period: number, source: WindowSource): number | undefined {
    const found = this.rsi.get(period)
    if (found !== undefined) return found.value
    checkPeriod("rsi", period)
    const indicator = new RSI(period)
    return this.track(
      this.rsi,
      period,
      onClose((c) => indicator.add(c)),
      source
    )
  }

  atrOf(period: number, source: WindowSource): number | undefined {
    const found = this.atr.get(period)
    if (found !== undefined) return found.value
    checkPeriod("atr", period)
    const indicator = new ATR(period)
    const tracker: Tracker<number> = {
      value: undefined,
      update: (high, low, close) => {
        tracker.value = indicator.add({ high, low, close }) ?? undefined
      }
    }
    return this.track(this.atr, period, tracker, source)
  }

  bollingerOf(period: number, deviations: number, source: WindowSource): Bands | undefined {
    const key = `${period}:${deviations}`
    const found = this.bollinger.get(key)
    if (found !== undefined) return found.value
    checkPeriod("bollinger", period)
    if (!Number.isFinite(deviations) || deviations <= 0 || deviations > 10)
      throw new RangeError(`ctx.bollinger needs deviations above 0 and at most 10 (got ${deviations})`)
    const indicator = new BollingerBands(period, deviations)
    return this.track(
      this.bollinger,
      key,
      onClose((c) => indicator.add(c)),
      source
    )
  }

  private track<K, A>(
    map: Map<K, Tracker<A>>,
    key: K,
    tracker: Tracker<A>,
    source: WindowSource
  ): A | undefined {
    const window = source.read()
    for (let i = 0; i < window.length; i++) tracker.update(window.high[i]!, window.low[i]!, window.close[i]!)
    map.set(key, tracker)
    this.trackers.push(tracker as Tracker<unknown>)
    return tracker.value
  }
}
