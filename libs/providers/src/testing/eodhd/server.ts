/**
 * A fake EODHD REST API on 127.0.0.1 for tests and local runs, reproducing what the provider relies
 * on (eodhd.com/financial-apis): CSV unless `fmt=json`, plain-text `Unauthenticated` for a bad
 * token (or `demo` outside the demo symbols), 402/403/429 with EODHD's headers, the 120-day 1m
 * range error. Its data is the deterministic random walk, so `bars()` tells a test exactly what a
 * client should read.
 *
 * Order of checks per request: slow → rate limit (429, counted before auth like an edge
 * limiter) → token → quota (402) → forbidden (403) → route → malformed (corrupts a 200 JSON body).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import type { ProviderBar, Timeframe } from "../../sdk/types"
import { DEMO_SYMBOLS } from "./catalog"
import { servedBars } from "./marketData"
import { type Answer, route, text } from "./routes"

export interface FakeEodhdOptions {
  /** Default 0: a free port. */
  readonly port?: number
  /** The fake's clock (epoch ms); share it with the provider's context. Default `Date.now`. */
  readonly now?: () => number
  /** Seed of the random walk. Default 1. */
  readonly seed?: number
  /** Tokens with access to every endpoint and symbol (besides `demo`, limited to demo symbols). */
  readonly validTokens?: ReadonlyArray<string>
}

export interface FakeRequest {
  /** `eod`, `intraday`, `exchange-symbol-list`, `exchanges-list`, or whatever was asked. */
  readonly endpoint: string
  readonly path: string
  readonly query: Readonly<Record<string, string>>
  readonly status: number
}

export interface FakeEodhd {
  /** `http://127.0.0.1:N/api`, the provider's `baseUrl`. */
  readonly baseUrl: string
  readonly port: number
  /** Every request answered since start or `reset()`, in order. */
  readonly requests: ReadonlyArray<FakeRequest>
  /** How many requests were answered, optionally only for one endpoint. */
  requestCount(endpoint?: string): number
  /** Ground truth: the bars served for `symbol` opening in `[from, to)`, null volume read as 0. */
  bars(symbol: string, timeframe: Timeframe, from: number, to: number): Array<ProviderBar>
  /** The next `times` requests answer 429 with `Retry-After: retryAfterSeconds`. */
  rateLimit(times: number, retryAfterSeconds?: number): void
  /** While on, authorised requests answer 402 (daily API limit used up). */
  quotaExhausted(on?: boolean): void
  /** While on, authorised requests answer 403 (plan does not include the endpoint). */
  forbidden(on?: boolean): void
  /** Delay every answer by `ms` (0 to stop). */
  slow(ms: number): void
  /** The next `times` successful JSON answers are cut in half (invalid JSON). */
  malformed(times?: number): void
  /** Clears all faults and the request log. */
  reset(): void
  close(): Promise<void>
}

const RATE_LIMIT_PER_MINUTE = 1_000

export const startFakeEodhd = async (options: FakeEodhdOptions = {}): Promise<FakeEodhd> => {
  const now = options.now ?? Date.now
  const seed = options.seed ?? 1
  const tokens = new Set(options.validTokens ?? [])
  const requests: Array<FakeRequest> = []
  const faults = { rateLimited: 0, retryAfter: 60, quota: false, forbidden: false, slowMs: 0, malformed: 0 }

  const answer = (endpoint: string, arg: string | undefined, query: Record<string, string>): Answer => {
    if (faults.rateLimited > 0) {
      faults.rateLimited--
      return {
        status: 429,
        body: "<html><head><title>429 Too Many Requests</title></head><body>Too Many Requests</body></html>",
        contentType: "text/html; charset=utf-8",
        headers: {
          "x-ratelimit-limit": String(RATE_LIMIT_PER_MINUTE),
          "x-ratelimit-remaining": "0",
          "retry-after": String(faults.retryAfter)
        }
      }
    }
    const token = query.api_token ?? ""
    const demoOk =
      token === "demo" &&
      (endpoint === "eod" || endpoint === "intraday") &&
      DEMO_SYMBOLS.has(arg?.toUpperCase() ?? "")
    // A bad token gets plain text whatever `fmt` says; 401 is what the OpenAPI spec declares.
    if (!tokens.has(token) && !demoOk) return text(401, "Unauthenticated")
    if (faults.quota) return text(402, "Payment Required: you exceeded your daily API requests limit.")
    if (faults.forbidden) return text(403, "Forbidden. Your plan does not include this API.")
    const result = route({ endpoint, arg, query, seed, now: now() })
    if (result.status === 200 && query.fmt === "json" && faults.malformed > 0) {
      faults.malformed--
      return { ...result, body: result.body.slice(0, Math.floor(result.body.length / 2)) }
    }
    return result
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1")
    const query = Object.fromEntries(url.searchParams)
    const [prefix, endpoint = "", arg, ...rest] = url.pathname.split("/").filter((s) => s !== "")
    if (faults.slowMs > 0) await new Promise((r) => setTimeout(r, faults.slowMs))
    const result =
      prefix !== "api" || rest.length > 0 || req.method !== "GET"
        ? text(404, "Not Found")
        : answer(endpoint, arg === undefined ? undefined : decodeURIComponent(arg), query)
    requests.push({ endpoint, path: url.pathname, query, status: result.status })
    res.writeHead(result.status, { "content-type": result.contentType, ...result.headers })
    res.end(result.body)
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(500, { "content-type": "text/plain" })
      res.end(`fake EODHD failed: ${String(error)}`)
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve())
  })
  const port = (server.address() as AddressInfo).port

  return {
    baseUrl: `http://127.0.0.1:${port}/api`,
    port,
    get requests() {
      return requests
    },
    requestCount: (endpoint) =>
      endpoint === undefined ? requests.length : requests.filter((r) => r.endpoint === endpoint).length,
    bars: (symbol, timeframe, from, to) => servedBars(seed, symbol, timeframe, from, to, now()),
    rateLimit: (times, retryAfterSeconds = 60) => {
      faults.rateLimited = times
      faults.retryAfter = retryAfterSeconds
    },
    quotaExhausted: (on = true) => {
      faults.quota = on
    },
    forbidden: (on = true) => {
      faults.forbidden = on
    },
    slow: (ms) => {
      faults.slowMs = ms
    },
    malformed: (times = 1) => {
      faults.malformed = times
    },
    reset: () => {
      Object.assign(faults, {
        rateLimited: 0,
        retryAfter: 60,
        quota: false,
        forbidden: false,
        slowMs: 0,
        malformed: 0
      })
      requests.length = 0
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()))
        server.closeAllConnections()
      })
  }
}
