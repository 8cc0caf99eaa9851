/**
 * The fake's REST half: `/0/public/AssetPairs`, `/0/public/OHLC` and `/0/public/Time`, answering
 * like Kraken does (docs.kraken.com/api/docs/rest-api/get-ohlc-data,
 * docs.kraken.com/api/docs/rest-api/get-tradable-asset-pairs): HTTP 200 with
 * `{"error":[...],"result":{...}}`, decimals as strings, at most `maxRows` recent rows ending with
 * the unfinished interval, and a `last` cursor. `since` is exclusive (rows with time > since).
 */
import type { IncomingMessage, ServerResponse } from "node:http"
import type { ProviderBar, Timeframe } from "../../sdk/types"
import { timeframeMs } from "../../synthetic/randomWalk"
import { barOpen } from "./market"
import { delay, type FakeState } from "./state"

const TIMEFRAME_OF_INTERVAL: Readonly<Record<string, Timeframe>> = {
  "1": "1m",
  "5": "5m",
  "15": "15m",
  "30": "30m",
  "60": "1h",
  "240": "4h",
  "1440": "1d",
  "10080": "1w"
}

type Body = { readonly error: ReadonlyArray<string>; readonly result?: unknown }

const failure = (error: string): Body => ({ error: [error] })

/** `[time, "open","high","low","close","vwap","volume", count]`; a no-trade row has vwap "0.0". */
const row = (bar: ProviderBar): ReadonlyArray<string | number> => [
  bar.ts / 1_000,
  bar.open.toFixed(4),
  bar.high.toFixed(4),
  bar.low.toFixed(4),
  bar.close.toFixed(4),
  bar.trades === 0 ? "0.0" : (bar.vwap ?? bar.close).toFixed(4),
  bar.volume.toFixed(8),
  bar.trades ?? 0
]

const assetPairs = (state: FakeState, query: URLSearchParams): Body => {
  const wanted = query.get("pair")
  const names = wanted ? wanted.split(",").map((s) => s.trim()) : undefined
  const pairs = names === undefined ? state.pairs.all : names.map((name) => state.pairs.rest(name))
  if (pairs.some((p) => p === undefined)) return failure("EQuery:Unknown asset pair")
  return { error: [], result: Object.fromEntries(pairs.flatMap((p) => (p ? [[p.key, p.row]] : []))) }
}

const ohlc = (state: FakeState, query: URLSearchParams): Body => {
  const name = query.get("pair")
  if (!name) return failure("EGeneral:Invalid arguments")
  const pair = state.pairs.rest(name)
  if (pair === undefined || pair.v2 === undefined) return failure("EQuery:Unknown asset pair")
  const tf = TIMEFRAME_OF_INTERVAL[query.get("interval") ?? "1"]
  if (tf === undefined) return failure("EGeneral:Invalid arguments")
  const since = Number(query.get("since") ?? "0")
  const d = timeframeMs(tf)
  const now = state.now()
  const current = barOpen(tf, now)
  const oldest = current - (state.config.maxRows - 1) * d
  const afterSince = barOpen(tf, (Number.isFinite(since) ? since : 0) * 1_000) + d
  const committed: Array<ProviderBar> = []
  for (
    let ts = Math.max(oldest, afterSince);
    ts < current && committed.length < state.config.pageRows;
    ts += d
  )
    committed.push(state.market.closedBar(pair, tf, ts))
  const last = (committed.at(-1)?.ts ?? current - d) / 1_000
  const rows = [...committed, state.market.formingBar(pair, tf, current, now)].map(row)
  return { error: [], result: { [pair.key]: rows, last } }
}

const time = (state: FakeState): Body => {
  const now = state.now()
  return { error: [], result: { unixtime: Math.floor(now / 1_000), rfc1123: new Date(now).toUTCString() } }
}

const send = (res: ServerResponse, status: number, body: string, type = "application/json"): void => {
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) })
  res.end(body)
}

export const handleRest = async (
  state: FakeState,
  req: IncomingMessage,
  res: ServerResponse
): Promise<void> => {
  state.stats.restRequests++
  const url = new URL(req.url ?? "/", "http://fake.invalid")
  if (state.faults.slowMs > 0) await delay(state.faults.slowMs)
  const injected = state.faults.restFailures.shift()
  if (injected !== undefined && "status" in injected)
    return send(res, injected.status, `error code: ${injected.status}`, "text/plain")
  if (injected !== undefined) return send(res, 200, JSON.stringify(failure(injected.error)))
  if (req.method !== "GET" && req.method !== "POST")
    return send(res, 405, JSON.stringify(failure("EGeneral:Invalid arguments")))
  switch (url.pathname) {
    case "/0/public/AssetPairs":
      return send(res, 200, JSON.stringify(assetPairs(state, url.searchParams)))
    case "/0/public/OHLC":
      return send(res, 200, JSON.stringify(ohlc(state, url.searchParams)))
    case "/0/public/Time":
      return send(res, 200, JSON.stringify(time(state)))
    default:
      return send(res, 404, JSON.stringify(failure("EGeneral:Unknown method")))
  }
}
