/**
 * HTTP transport for EODHD over `ctx.fetch`: builds the URL (token and `fmt=json` on every call)
 * and turns status + body into the SDK's error classes. Parsing of successful bodies lives in
 * `parse.ts`. The token is part of the query, so URLs never appear in messages or logs.
 */
import { FatalError, type ProviderContext, RetryableError } from "../sdk"
import { parseErrorBody } from "./parse"

export interface EodhdAuth {
  readonly baseUrl: string
  readonly apiToken: string
}

export interface EodhdClient {
  /** GET `{baseUrl}/{path}` and return the body of a successful response. */
  readonly get: (path: string, params?: Readonly<Record<string, string>>) => Promise<string>
}

export const eodhdUrl = (
  auth: EodhdAuth,
  path: string,
  params: Readonly<Record<string, string>> = {}
): URL => {
  const url = new URL(`${auth.baseUrl.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`)
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v)
  url.searchParams.set("api_token", auth.apiToken)
  // The default output is CSV, even for errors of some endpoints: always ask for JSON
  // (eodhd.com/financial-apis/api-for-historical-data-and-volumes).
  url.searchParams.set("fmt", "json")
  return url
}

/** `Retry-After` as delta-seconds or an HTTP date (RFC 9110 §10.2.3), in ms from `now`. */
export const parseRetryAfter = (value: string | null, now: number): number | undefined => {
  if (value === null || value.trim() === "") return undefined
  const seconds = Number(value.trim())
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000))
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

const CHECK_TOKEN = "check the EODHD provider's `apiToken` setting"

/**
 * The error for a response, or undefined when the body is data. Status codes as EODHD documents
 * them (eodhd.com/financial-apis/api-limits, and the OpenAPI spec at
 * github.com/EodHistoricalData/EODHD-openapi): 402 = API limit used up, 403 = invalid key or
 * plan, 429 = per-minute limit with `Retry-After`, 404 = unknown ticker; a bad token answers
 * plain-text `Unauthenticated` with any status and in any format, so the body is checked before
 * the status.
 */
export const responseError = (
  what: string,
  status: number,
  body: string,
  retryAfter: string | null,
  now: number
): Error | undefined => {
  // A JSON array is data; skip re-parsing what may be megabytes of bars.
  if (status >= 200 && status < 300 && body.trimStart().startsWith("[")) return undefined
  const parsed = parseErrorBody(body)
  if (parsed.kind === "unauthenticated")
    return new FatalError(`EODHD did not accept the API token (${what}: "Unauthenticated"): ${CHECK_TOKEN}`)
  const detail = parsed.message
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(retryAfter, now)
    return new RetryableError(`EODHD per-minute request limit reached (${what}: HTTP 429)`, { retryAfterMs })
  }
  if (status === 402)
    return new FatalError(
      `EODHD API limit used up (${what}: HTTP 402 ${detail}); the daily quota resets at midnight GMT`
    )
  if (status === 401) return new FatalError(`EODHD refused the API token (${what}: HTTP 401): ${CHECK_TOKEN}`)
  if (status === 403)
    return new FatalError(
      `EODHD forbids ${what} (HTTP 403 ${detail}): the API key is invalid or the plan does not include it; ${CHECK_TOKEN}`
    )
  if (status === 404)
    return new FatalError(`EODHD has no such ticker or exchange (${what}: HTTP 404 ${detail})`)
  if (parsed.kind === "errors") return new FatalError(`EODHD rejected ${what} (HTTP ${status}): ${detail}`)
  if (status >= 500 || status === 408)
    return new RetryableError(`EODHD server error (${what}: HTTP ${status} ${detail})`)
  if (status < 200 || status >= 300)
    return new FatalError(`EODHD rejected ${what} (HTTP ${status}): ${detail}`)
  return undefined
}

export const eodhdClient = (
  ctx: Pick<ProviderContext, "fetch" | "signal" | "now">,
  auth: EodhdAuth
): EodhdClient => ({
  get: async (path, params) => {
    const what = `GET /${path}`
    const url = eodhdUrl(auth, path, params)
    let response: Response
    let body: string
    try {
      response = await ctx.fetch(url, { signal: ctx.signal, headers: { accept: "application/json" } })
      body = await response.text()
    } catch (cause) {
      if (ctx.signal.aborted) throw cause
      const message = cause instanceof Error ? cause.message : String(cause)
      throw new RetryableError(`EODHD unreachable (${what}): ${message}`, { cause })
    }
    const error = responseError(what, response.status, body, response.headers.get("retry-after"), ctx.now())
    if (error) throw error
    return body
  }
})
