/**
 * The Kraken broker: spot orders through Kraken's private REST API (AddOrder, CancelOrder,
 * OpenOrders, ClosedOrders, QueryOrders, Balance, TradesHistory), order updates by polling.
 * The base URL is a setting so tests can point the same code at the fake.
 */
import { type BrokerOrder, defineBroker, FatalError, type ProviderContext, sleep } from "../sdk"
import { listPairAssets, pairListing, resolvePair } from "./listing"
import { balance, openOrders, queryOrders, tradesSince } from "./private/api"
import type { KrakenAccess } from "./private/client"
import { toBrokerOrder, toFill, toPositions } from "./private/mapping"
import { cancel, checkOrder, findOrder, placeOrder } from "./private/orders"
import { initialUpdates, ordersToQuery, reduceUpdates, tradesStart } from "./private/updates"
import { canonicalAsset } from "./symbols"

const settings = {
  restUrl: {
    type: "url",
    label: "REST base URL",
    description: "Kraken REST API, without /0/private",
    default: "https://api.kraken.com"
  },
  apiKey: {
    type: "string",
    label: "API key",
    description: "The public key of a Kraken API key pair",
    secret: true,
    required: true
  },
  apiSecret: {
    type: "string",
    label: "API secret",
    description: "The private key of the pair, base64, as Kraken shows it",
    secret: true,
    required: true
  },
  cashAsset: {
    type: "string",
    label: "Cash currency",
    description: "Positions are the assets held, named by their pair against this currency",
    default: "USD"
  },
  requestTimeoutMs: {
    type: "number",
    label: "Request timeout (ms)",
    description: "How long to wait for Kraken's answer before treating a request's outcome as unknown",
    default: 10_000
  },
  orderDeadlineMs: {
    type: "number",
    label: "Order deadline (ms)",
    description:
      "Kraken rejects an order rather than execute it later than this after it was sent (2,000–60,000)",
    default: 15_000
  },
  pollIntervalMs: {
    type: "number",
    label: "Order update poll interval (ms)",
    description: "Pause between polls of OpenOrders and TradesHistory (3 points of the private API counter)",
    default: 10_000
  }
} as const

type Settings = typeof settings
type Context = ProviderContext<Settings>

const accessOf = (ctx: Context): KrakenAccess => ({
  restUrl: ctx.settings.restUrl,
  apiKey: ctx.settings.apiKey,
  apiSecret: ctx.settings.apiSecret,
  timeoutMs: ctx.settings.requestTimeoutMs
})

const symbolsOf = (ctx: Context) => pairListing(ctx, ctx.settings.restUrl)

const brokerOrders = (ctx: Context, orders: Parameters<typeof toBrokerOrder>[0][]) =>
  symbolsOf(ctx).then((symbols) =>
    orders.map((o) => toBrokerOrder(o, symbols)).filter((o): o is BrokerOrder => o !== undefined)
  )

export const krakenBroker = defineBroker({
  // Providers and brokers share one namespace of names (code_registry's key is name and
  // version), and "kraken" is the market-data provider.
  name: "kraken-broker",
  displayName: "Kraken broker",
  version: "1.0.0",
  settings,
  // Each API key has a "call counter": Starter accounts may reach 15 and lose 0.33 a second;
  // "Ledger/trade history calls increase the counter by 2", AddOrder and CancelOrder use another
  // limiter (docs.kraken.com/api/docs/guides/spot-rest-ratelimits). A poll costs 3: at the
  // default 10 s interval that is 0.3 a second.
  rateLimit: { requestsPerSecond: 0.33, burst: 15 },

  listAssets(ctx) {
    return listPairAssets(ctx, ctx.settings.restUrl)
  },

  async placeOrder(ctx, order) {
    checkOrder(order)
    const pair = await resolvePair(ctx, ctx.settings.restUrl, order.symbol)
    if (pair === undefined)
      throw new FatalError(`Kraken lists no pair named ${order.symbol}; nothing was placed`, {
        reason: "unknownSymbol"
      })
    return placeOrder(ctx, accessOf(ctx), await symbolsOf(ctx), pair, order, {
      deadlineMs: ctx.settings.orderDeadlineMs
    })
  },

  async cancelOrder(ctx, ref) {
    return cancel(ctx, accessOf(ctx), await symbolsOf(ctx), ref)
  },

  async findOrder(ctx, ref) {
    return findOrder(ctx, accessOf(ctx), await symbolsOf(ctx), ref)
  },

  async openOrders(ctx) {
    return brokerOrders(ctx, await openOrders(ctx, accessOf(ctx)))
  },

  async positions(ctx) {
    const rows = await balance(ctx, accessOf(ctx))
    return toPositions(rows, await symbolsOf(ctx), ctx.settings.cashAsset)
  },

  async balances(ctx) {
    return (await balance(ctx, accessOf(ctx))).map((row) => ({
      asset: canonicalAsset(row.code),
      total: row.amount
    }))
  },

  async *orderUpdates(ctx, request) {
    const access = accessOf(ctx)
    let state = initialUpdates(request.since)
    while (!ctx.signal.aborted) {
      const symbols = await symbolsOf(ctx)
      const open = await brokerOrders(ctx, await openOrders(ctx, access))
      const trades = await tradesSince(ctx, access, tradesStart(state))
      const fills = trades.map((t) => toFill(t, symbols, undefined))
      const lookups = ordersToQuery(state, open, fills)
      const queried =
        lookups.length === 0 ? [] : await brokerOrders(ctx, await queryOrders(ctx, access, lookups))
      const next = reduceUpdates(state, { open, queried, fills })
      state = next.state
      yield* next.events
      await sleep(ctx.settings.pollIntervalMs, ctx.signal)
    }
  }
})

export default krakenBroker
