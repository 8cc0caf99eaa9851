/**
 * EODHD (eodhd.com): end-of-day and intraday history for stocks, ETFs, funds, crypto and FX.
 * The API is documented at eodhd.com/financial-apis; transport is `rest.ts`, parsing
 * `parse.ts`, range splitting `ranges.ts`. No live stream: EODHD's WebSocket is a separate
 * product, so the host schedules `history` after each bar closes.
 */
import {
  type AssetInfo,
  defineProvider,
  FatalError,
  type HistoryPage,
  type HistoryRequest,
  type Logger,
  type ProviderBar,
  type ProviderContext,
  RetryableError,
  type Timeframe
} from "../sdk"
import { type Parsed, parseEodBars, parseIntradayBars, parseSymbolList, type SkippedRow } from "./parse"
import {
  alignDown,
  alignUp,
  DAY_MS,
  dailyParams,
  dailyWindows,
  type IntradayInterval,
  intradayParams,
  intradayWindows,
  type Window
} from "./ranges"
import { type EodhdClient, eodhdClient } from "./rest"

const settings = {
  apiToken: {
    type: "string",
    label: "API token",
    description:
      "Your EODHD API token (`demo` works for AAPL.US, TSLA.US, VTI.US, AMZN.US, BTC-USD.CC, EURUSD.FOREX).",
    secret: true,
    required: true
  },
  baseUrl: { type: "url", label: "Base URL", default: "https://eodhd.com/api" },
  exchanges: {
    type: "string",
    label: "Exchanges",
    description: "Comma-separated EODHD exchange codes whose symbols are listed (e.g. US,CC,FOREX).",
    default: "US"
  }
} as const

type Ctx = ProviderContext<typeof settings>

/**
 * EOD data arrives ~15 min after the US close and 2–3 h after other closes (EODHD's API skill
 * docs, github.com/EodHistoricalData/eodhd-claude-skills); a daily bar is asked for only once its
 * UTC day has ended and this delay has passed.
 */
const PUBLISH_DELAY_MS = 3 * 60 * 60_000

const INTERVALS: Readonly<Partial<Record<Timeframe, IntradayInterval>>> = {
  "1m": "1m",
  "5m": "5m",
  "1h": "1h"
}
const STEP_MS: Readonly<Record<IntradayInterval, number>> = { "1m": 60_000, "5m": 300_000, "1h": 3_600_000 }

const client = (ctx: Ctx): EodhdClient =>
  eodhdClient(ctx, { baseUrl: ctx.settings.baseUrl, apiToken: ctx.settings.apiToken })

const MAX_ROW_WARNINGS = 10

/** Rows EODHD sent that we cannot read are logged and dropped; the rest of the body is kept. */
const warnSkipped = (log: Logger, what: string, skipped: ReadonlyArray<SkippedRow>): void => {
  for (const row of skipped.slice(0, MAX_ROW_WARNINGS))
    log.warn(`EODHD ${what}: skipped a malformed row`, { index: row.index, reason: row.reason, raw: row.raw })
  if (skipped.length > MAX_ROW_WARNINGS)
    log.warn(`EODHD ${what}: skipped ${skipped.length} malformed rows in total`, { count: skipped.length })
}

/** A body we cannot read as a whole fails the chunk so it is retried, never half-written. */
const rowsOf = <T>(log: Logger, what: string, parsed: Parsed<T>): ReadonlyArray<T> => {
  if (!parsed.ok) throw new RetryableError(`EODHD ${what}: unreadable response (${parsed.reason})`)
  warnSkipped(log, what, parsed.skipped)
  return parsed.rows
}

/** The bars of one window: inside it, ascending, one per open time. */
const pageOf = (bars: ReadonlyArray<ProviderBar>, w: Window): HistoryPage => {
  const byTs = new Map<number, ProviderBar>()
  for (const b of bars) if (b.ts >= w.from && b.ts < w.to) byTs.set(b.ts, b)
  return { bars: [...byTs.values()].sort((a, b) => a.ts - b.ts) }
}

const exchangeCodes = (value: string): Array<string> => [
  ...new Set(
    value
      .split(",")
      .map((s) => s.trim().toUpperCase())
      .filter((s) => s !== "")
  )
]

const listAssets = async (ctx: Ctx): Promise<ReadonlyArray<AssetInfo>> => {
  const codes = exchangeCodes(ctx.settings.exchanges)
  if (codes.length === 0) throw new FatalError("EODHD: the `exchanges` setting lists no exchange code")
  const api = client(ctx)
  const assets = new Map<string, AssetInfo>()
  for (const code of codes) {
    const path = `exchange-symbol-list/${encodeURIComponent(code)}`
    const rows = rowsOf(ctx.log, path, parseSymbolList(await api.get(path), code))
    for (const asset of rows) if (!assets.has(asset.symbol)) assets.set(asset.symbol, asset)
  }
  return [...assets.values()]
}

/** The daily bar keyed at 00:00 UTC of its `date`; `adjustedClose` is dropped: ProviderBar has no field for it. */
const dailyBar = ({ ts, open, high, low, close, volume }: ProviderBar): ProviderBar => ({
  ts,
  open,
  high,
  low,
  close,
  volume
})

async function* dailyHistory(ctx: Ctx, symbol: string, from: number, to: number): AsyncIterable<HistoryPage> {
  // Days D with D + 1 day + delay <= now: today's bar may already be served while it still moves.
  const end = Math.min(to, alignDown(ctx.now() - PUBLISH_DELAY_MS, DAY_MS))
  const api = client(ctx)
  const path = `eod/${encodeURIComponent(symbol)}`
  for (const w of dailyWindows(alignUp(from, DAY_MS), end)) {
    const body = await api.get(path, { ...dailyParams(w), period: "d", order: "a" })
    yield pageOf(rowsOf(ctx.log, path, parseEodBars(body)).map(dailyBar), w)
  }
}

async function* intradayHistory(
  ctx: Ctx,
  symbol: string,
  interval: IntradayInterval,
  from: number,
  to: number
): AsyncIterable<HistoryPage> {
  const step = STEP_MS[interval]
  // Only closed bars: open + step <= now. EODHD serves the forming bar too.
  const end = Math.min(to, alignDown(ctx.now(), step))
  const api = client(ctx)
  const path = `intraday/${encodeURIComponent(symbol)}`
  for (const w of intradayWindows(alignUp(from, step), end, interval)) {
    const body = await api.get(path, { interval, ...intradayParams(w) })
    yield pageOf(rowsOf(ctx.log, path, parseIntradayBars(body)), w)
  }
}

async function* history(ctx: Ctx, request: HistoryRequest): AsyncIterable<HistoryPage> {
  const { symbol, timeframe, from, to } = request
  const interval = INTERVALS[timeframe]
  if (timeframe === "1d") yield* dailyHistory(ctx, symbol, from, to)
  else if (interval) yield* intradayHistory(ctx, symbol, interval, from, to)
  else throw new FatalError(`EODHD has no ${timeframe} bars (supported: 1m, 5m, 1h, 1d)`)
}

export default defineProvider({
  name: "eodhd",
  displayName: "EODHD",
  version: "1.0.0",
  timeframes: ["1m", "5m", "1h", "1d"],
  settings,
  // 1,000 requests per minute (eodhd.com/financial-apis/api-limits): 16/s with a burst of
  // 16 stays under it even when the burst is spent at the start of a minute (16 + 60 × 16 < 1,000).
  rateLimit: { requestsPerSecond: 16, burst: 16 },
  publishDelayMs: PUBLISH_DELAY_MS,
  listAssets,
  history
})
