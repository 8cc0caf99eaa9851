/**
 * A provider whose behaviour a test scripts: the synthetic random walk served in pages of a
 * chosen size and pace, with bars that never exist (market closed), bars that arrive late,
 * scripted failures and garbage pages, and a log of every request and of how many ran at once.
 */
import { Timeframe } from "@quasar/domain"
import type { ProviderBar } from "@quasar/providers/sdk"
import { defineProvider, FatalError, RetryableError } from "@quasar/providers/sdk"
import { barsBetween } from "@quasar/providers/synthetic"

export const WALK = { seed: 7 }

export class Script {
  pageBars = 500
  pageDelayMs = 0
  /** Bars that never exist (a closed market). */
  closed: (ts: number) => boolean = () => false
  /** Bars the provider does not have yet while `lateServed` is false. */
  late: (ts: number) => boolean = () => false
  lateServed = false
  /** Failures served one per request, in order, before data. */
  failures: Array<"retryable" | "fatal"> = []
  /** Pages still to be corrupted (one unsound bar each) before good ones are served. */
  garbagePages = 0
  readonly requests: Array<{ readonly symbol: string; readonly from: number; readonly to: number }> = []
  /** Awaited before each request is served (a test reads the database's state at that moment). */
  onRequest: (symbol: string, from: number) => Promise<void> = async () => {}
  active = 0
  maxActive = 0

  /** Ground truth: every bar this provider will eventually serve in [from, to). */
  truth(symbol: string, tf: Timeframe.Timeframe, from: number, to: number): Array<ProviderBar> {
    return barsBetween(WALK, symbol, tf, from, to).filter((b) => !this.closed(b.ts))
  }
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve()
    const done = () => {
      clearTimeout(timer)
      signal.removeEventListener("abort", done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal.addEventListener("abort", done, { once: true })
  })

export const scriptedProvider = (name: string, script: Script) =>
  defineProvider({
    name,
    displayName: `Scripted ${name}`,
    version: "1.0.0",
    timeframes: ["1m", "5m", "1h", "1d"],
    settings: {},
    listAssets: async () => [],
    async *history(ctx, { symbol, timeframe, from, to }) {
      await script.onRequest(symbol, from)
      script.requests.push({ symbol, from, to })
      script.active++
      script.maxActive = Math.max(script.maxActive, script.active)
      try {
        const failure = script.failures.shift()
        if (failure === "retryable") throw new RetryableError(`${name}: scripted outage`)
        if (failure === "fatal") throw new FatalError(`${name}: unknown symbol ${symbol}`)
        const d = Timeframe.durationMs(timeframe)
        const end = Math.min(to, Timeframe.barOpen(timeframe, ctx.now()))
        for (let start = from; start < end && !ctx.signal.aborted; start += script.pageBars * d) {
          await sleep(script.pageDelayMs, ctx.signal)
          const bars = barsBetween(
            WALK,
            symbol,
            timeframe,
            start,
            Math.min(end, start + script.pageBars * d)
          ).filter((b) => !script.closed(b.ts) && (script.lateServed || !script.late(b.ts)))
          if (script.garbagePages > 0 && bars.length > 2) {
            script.garbagePages--
            yield { bars: bars.map((b, i) => (i === 1 ? { ...b, high: Number.NaN } : b)) }
          } else if (bars.length > 0) yield { bars }
        }
      } finally {
        script.active--
      }
    }
  })
