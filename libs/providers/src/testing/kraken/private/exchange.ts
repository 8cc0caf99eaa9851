/**
 * The fake Kraken's private REST API (`/0/private/*`): accounts seeded per API key, requests
 * authenticated as Kraken does (`auth.ts`), orders matched against the fake's own market
 * (`matching.ts`), and fault controls for tests. State is in memory.
 *
 * Endpoints: Balance, AddOrder, CancelOrder, OpenOrders, ClosedOrders, QueryOrders, TradesHistory.
 * Bodies are form-encoded ("Request payloads are form-encoded", docs.kraken.com/rest).
 */
import { randomBytes } from "node:crypto"
import type { IncomingMessage, ServerResponse } from "node:http"
import type { FakeMarket } from "../market"
import type { FakePairs } from "../pairs"
import { delay } from "../state"
import { FakeAccount, type FakeApiKey, type FakeOrder, type FakeTrade } from "./account"
import { authenticate } from "./auth"
import { noFaults, takeDelay, times } from "./faults"
import { priceAt, sweep } from "./matching"
import {
  addOrder,
  type Body,
  balance,
  balancesOf,
  cancelOrder,
  closedOrders,
  openOrders,
  queryOrders,
  tradesHistory,
  type Venue
} from "./routes"

export interface FakeAccountSeed {
  readonly key: string
  /** Base64; generated when absent. */
  readonly secret?: string
  /** By Kraken asset code: `{ ZUSD: 10_000, XXBT: 1 }`. */
  readonly balances?: Readonly<Record<string, number>>
  /** Another API key of the account of this key (same balances and orders, its own nonce). */
  readonly sameAccountAs?: string
}

/** What a test can read of an account. */
export interface FakeAccountView {
  readonly key: string
  readonly secret: string
  readonly balances: Readonly<Record<string, number>>
  /** Balance less what open orders hold. */
  available(asset: string): number
  readonly orders: ReadonlyArray<FakeOrder>
  readonly trades: ReadonlyArray<FakeTrade>
}

type Answer = { readonly status: number; readonly body: Body }

/** Kraken-looking ids (`OUF4EM-FRGI2-MQMWZD`), deterministic per fake. */
const idSource = () => {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
  let counter = 0n
  return (prefix: "O" | "T"): string => {
    counter++
    let x = (counter * 0x9e3779b97f4a7c15n) % 2n ** 80n
    let chars = ""
    for (let i = 0; i < 16; i++, x /= 32n) chars += alphabet[Number(x % 32n)]
    return `${prefix}${chars.slice(0, 5)}-${chars.slice(5, 10)}-${chars.slice(10)}`
  }
}

const MAX_BODY = 64 * 1024

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    let size = 0
    req.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY) req.destroy(new Error("body too large"))
      else chunks.push(chunk)
    })
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    req.on("error", reject)
  })

export class FakeExchange {
  private readonly keys = new Map<string, FakeApiKey>()
  private readonly venue: Venue
  private faults = noFaults()
  private busy = 0
  private idle: Array<() => void> = []
  readonly stats = { requests: 0, ordersPlaced: 0 }

  constructor(
    market: FakeMarket,
    pairs: FakePairs,
    now: () => number,
    seeds: ReadonlyArray<FakeAccountSeed> = []
  ) {
    this.venue = { market, pairs, now, nextId: idSource() }
    for (const seed of seeds) this.addAccount(seed)
  }

  /** Adds (or replaces) an API key with a new account, or one of an existing key's account. */
  addAccount(seed: FakeAccountSeed): { readonly key: string; readonly secret: string } {
    const secret = seed.secret ?? randomBytes(64).toString("base64")
    const account =
      seed.sameAccountAs === undefined
        ? new FakeAccount(seed.balances ?? {})
        : this.keyNamed(seed.sameAccountAs).account
    this.keys.set(seed.key, { secret, lastNonce: 0n, account })
    return { key: seed.key, secret }
  }

  private keyNamed(key: string): FakeApiKey {
    const found = this.keys.get(key)
    if (found === undefined) throw new Error(`the fake Kraken has no account with API key ${key}`)
    return found
  }

  /** An account as it stands now (open orders matched up to the fake's clock). */
  account(key: string): FakeAccountView {
    const { account, secret } = this.keyNamed(key)
    sweep(this.venue.market, account, this.venue.now(), this.venue.nextId)
    return {
      key,
      secret,
      balances: balancesOf(account),
      available: (asset) => account.available(asset),
      orders: [...account.orders.values()],
      trades: [...account.trades]
    }
  }

  /** The market price of a pair now, as orders execute at it (any name of the pair). */
  price(symbol: string): number {
    const pair = this.venue.pairs.any(symbol)
    if (pair === undefined) throw new Error(`the fake Kraken has no pair named ${symbol}`)
    return priceAt(this.venue.market, pair, this.venue.now())
  }

  /** The next `n` AddOrder requests answer `{"error": [error]}` (e.g. `EOrder:Insufficient funds`). */
  failOrders(error: string, n = 1): void {
    this.faults.orderFailures.push(...times(n, error))
  }

  invalidNonce(n = 1): void {
    this.faults.invalidNonces += n
  }

  /**
   * The next `n` requests (of `method`, e.g. "AddOrder", or any) are accepted at once and
   * executed `ms` later: an order executes then, or is rejected if its deadline has passed.
   */
  queueRequests(ms: number, n = 1, method?: string): void {
    this.faults.queued.push(...times(n, { ms, method }))
  }

  /** The next `n` requests (of `method`, or any) are executed at once and answered `ms` later. */
  delayAnswers(ms: number, n = 1, method?: string): void {
    this.faults.slowAnswers.push(...times(n, { ms, method }))
  }

  dropAfterExecuting(n = 1): void {
    this.faults.drops += n
  }

  /** Takes `amount` of `asset` (Kraken code, e.g. ZUSD) out of the account, as a withdrawal does. */
  withdraw(key: string, asset: string, amount: number): void {
    this.keyNamed(key).account.move(asset, -amount)
  }

  /** Cancels an open order as its owner does on Kraken's site: the API sees it only when it looks. */
  cancelOnSite(key: string, txid: string): void {
    const answer = cancelOrder(this.venue, this.keyNamed(key).account, new URLSearchParams({ txid }))
    if (answer.error.length > 0) throw new Error(`the fake Kraken cannot cancel ${txid}: ${answer.error}`)
  }

  resetFaults(): void {
    this.faults = noFaults()
  }

  /** Resolves once no request is being queued, executed or answered late. */
  settled(): Promise<void> {
    return this.busy === 0 ? Promise.resolve() : new Promise((resolve) => this.idle.push(resolve))
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.busy++
    this.stats.requests++
    try {
      const body = await readBody(req)
      const path = new URL(req.url ?? "/", "http://fake.invalid").pathname
      const method = path.slice("/0/private/".length)
      const accepted = this.accept(req, path, body)
      let answer: Answer | "drop"
      if ("account" in accepted) {
        const queued = takeDelay(this.faults.queued, method)
        if (queued !== undefined) await delay(queued)
        answer = this.execute(accepted.account, method, new URLSearchParams(body))
      } else answer = accepted
      if (answer === "drop") {
        res.destroy()
        return
      }
      const late = takeDelay(this.faults.slowAnswers, method)
      if (late !== undefined) await delay(late)
      if (res.destroyed) return
      const text = JSON.stringify(answer.body)
      res.writeHead(answer.status, {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(text)
      })
      res.end(text)
    } finally {
      if (--this.busy === 0) for (const resolve of this.idle.splice(0)) resolve()
    }
  }

  /** The account a request may act on, or the answer refusing it. */
  private accept(
    req: IncomingMessage,
    path: string,
    body: string
  ): Answer | { readonly account: FakeAccount } {
    if (req.method !== "POST") return { status: 405, body: { error: ["EGeneral:Invalid arguments"] } }
    if (this.faults.invalidNonces > 0) {
      this.faults.invalidNonces--
      return { status: 200, body: { error: ["EAPI:Invalid nonce"] } }
    }
    const header = (name: string) => {
      const value = req.headers[name]
      return Array.isArray(value) ? value[0] : value
    }
    const auth = authenticate(
      this.keys,
      path,
      { apiKey: header("api-key"), apiSign: header("api-sign") },
      body,
      new URLSearchParams(body).get("nonce")
    )
    return auth.ok ? { account: auth.account } : { status: 200, body: { error: [auth.error] } }
  }

  private execute(account: FakeAccount, method: string, params: URLSearchParams): Answer | "drop" {
    sweep(this.venue.market, account, this.venue.now(), this.venue.nextId)
    switch (method) {
      case "Balance":
        return { status: 200, body: balance(account) }
      case "AddOrder":
        return this.addOrder(account, params)
      case "CancelOrder":
        return { status: 200, body: cancelOrder(this.venue, account, params) }
      case "OpenOrders":
        return { status: 200, body: openOrders(account, params) }
      case "ClosedOrders":
        return { status: 200, body: closedOrders(account, params) }
      case "QueryOrders":
        return { status: 200, body: queryOrders(account, params) }
      case "TradesHistory":
        return { status: 200, body: tradesHistory(account, params) }
      default:
        return { status: 404, body: { error: ["EGeneral:Unknown method"] } }
    }
  }

  private addOrder(account: FakeAccount, params: URLSearchParams): Answer | "drop" {
    const injected = this.faults.orderFailures.shift()
    if (injected !== undefined) return { status: 200, body: { error: [injected] } }
    const body = addOrder(this.venue, account, params)
    if (body.error.length > 0) return { status: 200, body }
    this.stats.ordersPlaced++
    if (this.faults.drops > 0) {
      this.faults.drops--
      return "drop"
    }
    return { status: 200, body }
  }
}
