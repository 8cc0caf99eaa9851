/**
 * Kraken's private-API error strings as SDK errors with a reason. Kraken answers HTTP 200 with
 * `{"error": ["E<Category>:<Message>"]}` (docs.kraken.com/api/docs/guides/spot-errors); a failed
 * order request has placed nothing, so every rejection but the service ones is final for that
 * request.
 */
import { type BrokerErrorReason, FatalError, RetryableError } from "../../sdk"
import { classifyErrors } from "../parse"

interface Rule {
  readonly prefix: string
  readonly reason: BrokerErrorReason
  readonly fatal: boolean
  /** What to do about it, for the person reading the error. */
  readonly advice: string
}

const PERMISSIONS =
  "Query Funds, Query Open Orders & Trades, Query Closed Orders & Trades, Create & Modify Orders, Cancel & Close Orders"

/** First match wins; the spot-errors guide lists each string. */
const RULES: ReadonlyArray<Rule> = [
  {
    prefix: "EAPI:Invalid key",
    reason: "invalidCredentials",
    fatal: true,
    advice: "check the apiKey setting"
  },
  {
    prefix: "EAPI:Invalid signature",
    reason: "invalidCredentials",
    fatal: true,
    advice: "check the apiSecret setting: the private key of the pair, base64, exactly as Kraken showed it"
  },
  {
    prefix: "EGeneral:Permission denied",
    reason: "invalidCredentials",
    fatal: true,
    advice: `give the API key these permissions: ${PERMISSIONS}`
  },
  // "Too many sequential EAPI:Invalid key errors" (spot-errors guide).
  {
    prefix: "EGeneral:Temporary lockout",
    reason: "invalidCredentials",
    fatal: true,
    advice:
      "the key is locked after repeated invalid-key errors: fix the apiKey setting and wait a few minutes"
  },
  {
    prefix: "EAPI:Invalid nonce",
    reason: "nonce",
    fatal: false,
    advice: "another client may share this API key"
  },
  {
    prefix: "EOrder:Insufficient funds",
    reason: "insufficientFunds",
    fatal: true,
    advice: "the balance cannot cover the order and its fee; nothing was placed"
  },
  {
    prefix: "EQuery:Unknown asset pair",
    reason: "unknownSymbol",
    fatal: true,
    advice: "Kraken does not trade this pair"
  },
  {
    prefix: "EOrder:Unknown order",
    reason: "unknownOrder",
    fatal: true,
    advice: "Kraken has no such open order"
  },
  { prefix: "EAPI:Rate limit exceeded", reason: "rateLimited", fatal: false, advice: "slow down" },
  { prefix: "EOrder:Rate limit exceeded", reason: "rateLimited", fatal: false, advice: "slow down" },
  { prefix: "EGeneral:Too many requests", reason: "rateLimited", fatal: false, advice: "slow down" },
  // "EService: Throttled: [UNIX timestamp]" for "too many concurrent requests. Try again after
  // [timestamp]" (docs.kraken.com/api/docs/guides/spot-rest-ratelimits).
  {
    prefix: "EService: Throttled",
    reason: "rateLimited",
    fatal: false,
    advice: "too many concurrent requests"
  },
  // Unavailable, Busy, Deadline elapsed, Market in cancel_only/post_only mode: all pass.
  {
    prefix: "EService:",
    reason: "unavailable",
    fatal: false,
    advice: "Kraken is busy or offline; try later"
  },
  { prefix: "EGeneral:Internal error", reason: "unavailable", fatal: false, advice: "try later" },
  // Minimums, tick size, price, bad or missing arguments, open-order limits.
  {
    prefix: "EGeneral:Invalid arguments",
    reason: "invalidOrder",
    fatal: true,
    advice: "Kraken refused the request's arguments"
  },
  {
    prefix: "EOrder:",
    reason: "invalidOrder",
    fatal: true,
    advice: "Kraken refused the order; see AssetPairs for the pair's minimums and precision"
  }
]

const ruleFor = (errors: ReadonlyArray<string>): Rule | undefined => {
  for (const rule of RULES) if (errors.some((e) => e.startsWith(rule.prefix))) return rule
  return undefined
}

/** The error for a private call that answered `errors` at `nowMs`. */
export const krakenError = (
  method: string,
  errors: ReadonlyArray<string>,
  nowMs: number
): FatalError | RetryableError => {
  const rule = ruleFor(errors)
  const said = `Kraken ${method}: ${errors.join("; ")}`
  const hint = classifyErrors(errors, nowMs)
  const retryAfterMs = hint.kind === "retryable" ? hint.retryAfterMs : undefined
  if (rule === undefined) return new RetryableError(said, { retryAfterMs })
  const message = `${said}: ${rule.advice}`
  return rule.fatal
    ? new FatalError(message, { reason: rule.reason })
    : new RetryableError(message, { reason: rule.reason, retryAfterMs })
}

/** The reason of an error a private call threw, if it carries one. */
export const reasonOf = (error: unknown): BrokerErrorReason | undefined =>
  error instanceof FatalError || error instanceof RetryableError ? error.reason : undefined
