import { describe, expect, it } from "vitest"
import { eodhdUrl, parseRetryAfter, responseError } from "../../src/eodhd/rest"
import { FatalError, RetryableError } from "../../src/sdk"
import { fixture } from "./harness"

const NOW = Date.UTC(2025, 0, 1)
const errorFor = (status: number, body: string, retryAfter: string | null = null) =>
  responseError("GET /eod/AAPL.US", status, body, retryAfter, NOW)

describe("eodhdUrl", () => {
  it("always carries api_token and fmt=json, even if a caller asks for CSV", () => {
    const url = eodhdUrl({ baseUrl: "https://eodhd.com/api/", apiToken: "t k" }, "/eod/AAPL.US", {
      fmt: "csv"
    })
    expect(url.origin + url.pathname).toBe("https://eodhd.com/api/eod/AAPL.US")
    expect(url.searchParams.get("fmt")).toBe("json")
    expect(url.searchParams.get("api_token")).toBe("t k")
  })
})

describe("responseError", () => {
  it("plain-text Unauthenticated is fatal with any status and points at the token setting", () => {
    for (const status of [200, 401, 403, 500]) {
      const error = errorFor(status, fixture("unauthenticated.txt"))
      expect(error).toBeInstanceOf(FatalError)
      expect(error?.message).toMatch(/apiToken/)
    }
  })

  it("429 is retryable after Retry-After seconds (or an HTTP date)", () => {
    const error = errorFor(429, "<html>Too Many Requests</html>", "60")
    expect(error).toBeInstanceOf(RetryableError)
    expect(error instanceof RetryableError && error.retryAfterMs).toBe(60_000)
    expect(parseRetryAfter(new Date(NOW + 5_000).toUTCString(), NOW)).toBe(5_000)
    expect(parseRetryAfter(null, NOW)).toBeUndefined()
    expect(parseRetryAfter("soon", NOW)).toBeUndefined()
  })

  it("402, 403, 404, 400 and error bodies are fatal; 5xx is retryable; data is no error", () => {
    expect(errorFor(402, "")?.message).toMatch(/API limit used up/)
    expect(errorFor(403, "Forbidden")).toBeInstanceOf(FatalError)
    expect(errorFor(404, "Ticker Not Found.")?.message).toMatch(/Ticker Not Found/)
    expect(errorFor(400, "bad")).toBeInstanceOf(FatalError)
    const range = errorFor(422, fixture("intraday-over-range.json"))
    expect(range).toBeInstanceOf(FatalError)
    expect(range?.message).toMatch(/Max period length is 120 days/)
    expect(errorFor(200, fixture("intraday-over-range.json"))).toBeInstanceOf(FatalError)
    expect(errorFor(502, "<html>Bad Gateway</html>")).toBeInstanceOf(RetryableError)
    expect(errorFor(200, fixture("eod-AAPL.US.json"))).toBeUndefined()
    expect(errorFor(200, "not json at all")).toBeUndefined()
  })
})
