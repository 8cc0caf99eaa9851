/**
 * Kraken public REST over `ctx.fetch`: AssetPairs and paged OHLC history.
 */
import {
  FatalError,
  type HistoryPage,
  type HistoryRequest,
  type ProviderBar,
  type ProviderContext,
  RetryableError
} from "../sdk"
import {
  classifyErrors,
  type KrakenPair,
  parseAssetPairs,
  parseEnvelope,
  parseJson,
  parseOhlcResult
} from "./parse"
import { krakenInterval } from "./symbols"

const retryAfter = (header: string | null, nowMs: number): number | undefined => {
  if (header === null) return undefined
  const seconds = Number(header)
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1_000)
  const at = Date.parse(header)
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs)
}

/**
 * GETs `{restUrl}/0/public/{method}` and returns its `result`. Kraken answers HTTP 200 with errors
 * in the body (docs.kraken.com/api/docs/guides/spot-errors), so the body decides; 429/5xx
 * (Cloudflare) and network failures are retryable, other HTTP errors (a wrong base URL) are not.
 */
export const publicGet = async (
  ctx: ProviderContext,
  restUrl: string,
  method: string,
  query: Readonly<Record<string, string | number>>
): Promise<unknown> => {
  const url = new URL(`0/public/${method}`, restUrl.endsWith("/") ? restUrl : `${restUrl}/`)
  for (const [k, v] of Object.entries(query)) url.searchParams.set(k, String(v))
  let response: Response
  try {
    response = await ctx.fetch(url, { headers: { accept: "application/json" } })
  } catch (cause) {
    if (ctx.signal.aborted) throw cause
    throw new RetryableError(`Kraken ${method}: request failed`, { cause })
  }
  if (response.status === 429 || response.status >= 500) {
    const retryAfterMs = retryAfter(response.headers.get("retry-after"), ctx.now())
    throw new RetryableError(`Kraken ${method}: HTTP ${response.status}`, { retryAfterMs })
  }
  if (!response.ok) throw new FatalError(`Kraken ${method}: HTTP ${response.status} from ${url.origin}`)
  let body: string
  try {
    body = await response.text()
  } catch (cause) {
    if (ctx.signal.aborted) throw cause
    throw new RetryableError(`Kraken ${method}: body could not be read`, { cause })
  }
  const json = parseJson(body)
  const envelope = json.ok ? parseEnvelope(json.value) : json
  if (!envelope.ok) throw new RetryableError(`Kraken ${method}: malformed response (${envelope.error})`)
  const { errors, result } = envelope.value
  if (errors.length === 0) return result
  const error = classifyErrors(errors, ctx.now())
  if (error.kind === "fatal") throw new FatalError(`Kraken ${method}: ${error.message}`)
  throw new RetryableError(`Kraken ${method}: ${error.message}`, { retryAfterMs: error.retryAfterMs })
}

/** Every well-formed AssetPairs row (dark pools included; see `assetOfPair`). */
export const fetchAssetPairs = async (ctx: ProviderContext, restUrl: string): Promise<Array<KrakenPair>> => {
  const parsed = parseAssetPairs(await publicGet(ctx, restUrl, "AssetPairs", {}))
  if (!parsed.ok) throw new RetryableError(`Kraken AssetPairs: ${parsed.error}`)
  const pairs: Array<KrakenPair> = []
  for (const row of parsed.value) {
    if (row.ok) pairs.push(row.value)
    else ctx.log.warn("kraken: skipping malformed AssetPairs row", { error: row.error })
  }
  if (pairs.length === 0 && parsed.value.length > 0)
    throw new RetryableError("Kraken AssetPairs: no row parsed")
  return pairs
}

interface OhlcPage {
  /** Committed rows, ascending; the unfinished last row is already removed. */
  readonly bars: ReadonlyArray<ProviderBar>
  readonly last: number | undefined
}

const fetchOhlcPage = async (
  ctx: ProviderContext,
  restUrl: string,
  altname: string,
  interval: number,
  since: number
): Promise<OhlcPage> => {
  const parsed = parseOhlcResult(await publicGet(ctx, restUrl, "OHLC", { pair: altname, interval, since }))
  if (!parsed.ok) throw new RetryableError(`Kraken OHLC ${altname}: malformed result (${parsed.error})`)
  const { rows, last } = parsed.value
  // "The last entry in the OHLC array is for the current, not-yet-committed timeframe, and will
  // always be present" (docs.kraken.com/api/docs/rest-api/get-ohlc-data): drop it by position,
  // whatever it contains.
  const committed = rows.slice(0, -1)
  const bars: Array<ProviderBar> = []
  for (const row of committed) {
    if (row.ok) bars.push(row.value)
    else ctx.log.warn("kraken: skipping malformed OHLC row", { pair: altname, error: row.error })
  }
  // A response where nothing parses is broken as a whole: retry the chunk rather than write a gap.
  if (bars.length === 0 && committed.length > 0)
    throw new RetryableError(`Kraken OHLC ${altname}: no row could be parsed`)
  return { bars, last }
}

/**
 * Closed bars in [from, to), a page per response, paged by the `last` cursor. Kraken keeps only the
 * 720 most recent rows per interval (docs.kraken.com/api/docs/rest-api/get-ohlc-data): older bars
 * are not there, which is logged.
 */
export async function* ohlcHistory(
  ctx: ProviderContext,
  restUrl: string,
  altname: string,
  request: HistoryRequest
): AsyncGenerator<HistoryPage> {
  const interval = krakenInterval(request.timeframe)
  const barMs = interval * 60_000
  // `since` is exclusive (ccxt sends since-1): start one second before `from`.
  let since = Math.max(0, Math.floor(request.from / 1_000) - 1)
  let newest = Number.NEGATIVE_INFINITY
  let first = true
  while (!ctx.signal.aborted) {
    const page = await fetchOhlcPage(ctx, restUrl, altname, interval, since)
    const oldest = page.bars[0]
    if (first && oldest !== undefined && oldest.ts > request.from && oldest.ts < request.to)
      ctx.log.info("kraken: history older than the ~720 rows Kraken keeps is unavailable", {
        pair: altname,
        timeframe: request.timeframe,
        from: request.from,
        firstAvailable: oldest.ts
      })
    first = false
    const bars = page.bars.filter((b) => b.ts >= request.from && b.ts < request.to && b.ts > newest)
    const latest = bars.at(-1)
    if (latest !== undefined) {
      newest = latest.ts
      yield { bars }
    }
    const last = page.last
    if (last === undefined || last <= since || page.bars.length === 0) return
    if (last * 1_000 + barMs >= request.to) return
    since = last
  }
}
