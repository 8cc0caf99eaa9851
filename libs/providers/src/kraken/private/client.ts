/**
 * Kraken's private REST API over `ctx.fetch`: "Request payloads are form-encoded (Content-Type:
 * application/x-www-form-urlencoded), and all requests must specify a User-Agent"
 * (docs.kraken.com/rest); every request carries a `nonce` in its body and the `API-Key` and
 * `API-Sign` headers (docs.kraken.com/api/docs/guides/spot-rest-auth). Answers are HTTP 200 with
 * `{"error": [...], "result": {...}}`, like the public API.
 */
import { FatalError, type ProviderContext, RetryableError } from "../../sdk"
import { parseEnvelope, parseJson } from "../parse"
import { krakenError } from "./errors"
import { laneOf } from "./nonce"
import { base64Decode, signRequest } from "./sign"

export interface KrakenAccess {
  /** Base URL without `/0/private` (`https://api.kraken.com`, or a fake's). */
  readonly restUrl: string
  /** The public key of the API key pair (the `API-Key` header). */
  readonly apiKey: string
  /** The private key of the pair, base64, as Kraken shows it once. */
  readonly apiSecret: string
  /** How long to wait for an answer before treating the request's outcome as unknown. */
  readonly timeoutMs: number
}

export type PrivateParams = Readonly<Record<string, string | number | boolean | undefined>>

/**
 * No answer came (network failure, timeout, a 5xx from the proxy in front of Kraken, a body that
 * is not Kraken's): the request may or may not have been executed. For an order this is the case
 * that must be reconciled, never guessed.
 */
export class NoAnswerError extends RetryableError {}

interface Answer {
  readonly status: number
  readonly body: string
}

const send = async (
  ctx: ProviderContext,
  access: KrakenAccess,
  method: string,
  params: PrivateParams,
  nonce: number
): Promise<Answer> => {
  // The signature covers the body exactly as sent, nonce first (spot-rest-auth's example).
  const form = new URLSearchParams({ nonce: String(nonce) })
  for (const [k, v] of Object.entries(params)) if (v !== undefined) form.set(k, String(v))
  const body = form.toString()
  const path = `/0/private/${method}`
  const signature = await signRequest(path, String(nonce), body, access.apiSecret)
  const base = access.restUrl.endsWith("/") ? access.restUrl.slice(0, -1) : access.restUrl
  const timeout = AbortSignal.timeout(access.timeoutMs)
  try {
    const response = await ctx.fetch(`${base}${path}`, {
      method: "POST",
      headers: {
        "API-Key": access.apiKey,
        "API-Sign": signature,
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
        "User-Agent": "quasar-kraken-broker/1.0",
        Accept: "application/json"
      },
      body,
      signal: AbortSignal.any([ctx.signal, timeout])
    })
    return { status: response.status, body: await response.text() }
  } catch (cause) {
    if (ctx.signal.aborted) throw cause
    const what = timeout.aborted ? `no answer within ${access.timeoutMs} ms` : "the connection failed"
    throw new NoAnswerError(`Kraken ${method}: ${what}`, { cause, reason: "unavailable" })
  }
}

const resultOf = (method: string, answer: Answer, restUrl: string, nowMs: number): unknown => {
  // Cloudflare's 429 turns a request away before Kraken sees it; a 5xx from a proxy may come
  // after Kraken executed it.
  if (answer.status === 429)
    throw new RetryableError(`Kraken ${method}: HTTP 429, too many requests`, { reason: "rateLimited" })
  if (answer.status >= 500)
    throw new NoAnswerError(`Kraken ${method}: HTTP ${answer.status}`, { reason: "unavailable" })
  if (answer.status !== 200)
    throw new FatalError(`Kraken ${method}: HTTP ${answer.status} from ${restUrl}: check the restUrl setting`)
  const json = parseJson(answer.body)
  const envelope = json.ok ? parseEnvelope(json.value) : json
  if (!envelope.ok)
    throw new NoAnswerError(`Kraken ${method}: not Kraken's answer (${envelope.error})`, {
      reason: "unavailable"
    })
  if (envelope.value.errors.length > 0) throw krakenError(method, envelope.value.errors, nowMs)
  return envelope.value.result
}

const checkSecret = (apiSecret: string): void => {
  try {
    if (base64Decode(apiSecret).length > 0) return
  } catch {
    // reported below
  }
  throw new FatalError(
    "the apiSecret setting is not base64: paste the private key exactly as Kraken showed it",
    {
      reason: "invalidCredentials"
    }
  )
}

/**
 * POSTs `/0/private/{method}` and returns its `result`. Requests of one API key go out one at a
 * time in nonce order. A request refused for its nonce (say, another process used the key in
 * between) was not executed, so it is sent once more with a new nonce.
 */
export const privatePost = async (
  ctx: ProviderContext,
  access: KrakenAccess,
  method: string,
  params: PrivateParams = {}
): Promise<unknown> => {
  checkSecret(access.apiSecret)
  const lane = laneOf(access.apiKey)
  for (let attempt = 1; ; attempt++) {
    const answer = await lane.run(
      () => ctx.now(),
      (nonce) => send(ctx, access, method, params, nonce)
    )
    try {
      return resultOf(method, answer, access.restUrl, ctx.now())
    } catch (error) {
      const retry = error instanceof RetryableError && error.reason === "nonce" && attempt === 1
      if (!retry) throw error
      ctx.log.warn("kraken: request refused for its nonce, sending it again", { method })
    }
  }
}
