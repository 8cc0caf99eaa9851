/**
 * The broker contract: order execution on one account of one venue. Like providers, brokers are
 * plain TypeScript or JavaScript and never need Effect: the host wraps every call (timeouts,
 * retries by error class, spans) and keeps its own record of orders and fills. A broker never
 * touches the database.
 *
 * Quantities are in base units (coins, shares), prices in the quote currency, times UTC epoch ms.
 * Errors are the SDK's `RetryableError` and `FatalError` with a `reason` (see `errors.ts`).
 */
import type { AssetInfo, ProviderContext, SettingsSpec } from "./types"

export type OrderSide = "buy" | "sell"

/**
 * `stop` triggers when the price reaches `stopPrice` from the unfavourable side (a buy stop when
 * the price rises to it, a sell stop when it falls to it), then executes as a market order, or as
 * a limit order at `limitPrice` when one is given (stop-limit).
 */
export type OrderType = "market" | "limit" | "stop"

export interface OrderRequest {
  /**
   * The host's id for this order, unique for ever (the host uses a UUID). Placing the same id
   * again returns the order placed the first time, never a second order.
   */
  readonly clientOrderId: string
  /** The broker's own symbol, as `listAssets` gives it. */
  readonly symbol: string
  readonly side: OrderSide
  readonly type: OrderType
  /** In base units, more than 0. */
  readonly quantity: number
  /** Required for `limit`; for `stop`, makes it a stop-limit order. */
  readonly limitPrice?: number
  /** Required for `stop`, not allowed otherwise. */
  readonly stopPrice?: number
}

/**
 * - `pending`: accepted, not working yet (e.g. waiting to enter the book);
 * - `open`: working, possibly partly filled (see `filledQuantity`);
 * - `filled`: completely executed;
 * - `canceled`: will execute no more (cancelled by the user or the broker), possibly partly filled;
 * - `expired`: its time in force ran out, possibly partly filled.
 */
export type OrderStatus = "pending" | "open" | "filled" | "canceled" | "expired"

/** An order as the broker reports it. */
export interface BrokerOrder {
  /** The broker's own id (Kraken's `txid`). */
  readonly orderId: string
  readonly clientOrderId: string | undefined
  readonly symbol: string
  readonly side: OrderSide
  readonly type: OrderType
  readonly quantity: number
  readonly filledQuantity: number
  readonly limitPrice?: number
  readonly stopPrice?: number
  /** Volume-weighted price of the fills so far. */
  readonly averagePrice?: number
  /** Fees paid so far, in the quote currency. */
  readonly fee?: number
  readonly status: OrderStatus
  readonly createdAt: number
  readonly closedAt?: number
  /** Why the broker closed it, in its own words (e.g. Kraken's "User requested"). */
  readonly reason?: string
}

/** One execution of (part of) an order. */
export interface Fill {
  /** The broker's id of the execution, unique: the host drops repeats by it. */
  readonly id: string
  readonly orderId: string
  readonly clientOrderId: string | undefined
  readonly symbol: string
  readonly side: OrderSide
  readonly quantity: number
  readonly price: number
  /** In the quote currency. */
  readonly fee: number
  readonly ts: number
  readonly liquidity?: "maker" | "taker"
}

/** What the account holds of one instrument (for spot: a non-cash asset, named by its pair). */
export interface Position {
  readonly symbol: string
  readonly quantity: number
  readonly averagePrice?: number
}

export interface Balance {
  /** Canonical asset code (`BTC`, `USD`), not the broker's legacy code. */
  readonly asset: string
  readonly total: number
  /** What new orders can use (total less what open orders hold), when the broker says. */
  readonly available?: number
}

/** An order by the broker's id or by the host's client order id. */
export type OrderRef = { readonly orderId: string } | { readonly clientOrderId: string }

/**
 * What `orderUpdates` yields. One iterable is one polling or connection life: when it ends the
 * broker throws (RetryableError to be restarted) and the host starts it again from the time of
 * the last fill it recorded.
 */
export type BrokerEvent =
  /** An order changed (status, filled quantity); always the whole order as it now stands. */
  | { readonly type: "order"; readonly order: BrokerOrder }
  | { readonly type: "fill"; readonly fill: Fill }
  /** Nothing changed, the broker answered: lets the host detect a stale stream. */
  | { readonly type: "heartbeat" }

export interface OrderUpdatesRequest {
  /** Fills at or after this time are yielded (some earlier ones may repeat; drop them by id). */
  readonly since: number
}

export interface BrokerDefinition<S extends SettingsSpec = SettingsSpec> {
  /** Lower-case slug, unique in the registry (`kraken`). */
  readonly name: string
  readonly displayName: string
  /** The author's version label; the registry numbers uploads on its own. */
  readonly version: string
  /** Settings, API keys included (mark them `secret`: they are sealed at rest). */
  readonly settings: S
  /** Requests per second the venue's private API tolerates for one account. */
  readonly rateLimit?: { readonly requestsPerSecond: number; readonly burst?: number }
  /** The symbols this broker trades, for mappings to common symbols. */
  listAssets(ctx: ProviderContext<S>): Promise<ReadonlyArray<AssetInfo>>
  /**
   * Places an order, idempotent on `clientOrderId`. Resolves with the order as the broker
   * reports it. Throws `FatalError` (reason `insufficientFunds`, `unknownSymbol`,
   * `invalidOrder`, `invalidCredentials`) when nothing was placed, or `RetryableError` with
   * reason `stateUnknown` when the order may exist: the host then reconciles with `findOrder`.
   */
  placeOrder(ctx: ProviderContext<S>, order: OrderRequest): Promise<BrokerOrder>
  /** Cancels an open order; resolves with the order as it stands (already filled ones included). */
  cancelOrder(ctx: ProviderContext<S>, ref: OrderRef): Promise<BrokerOrder>
  /** The order with that id, open or closed, or undefined when the broker has none. */
  findOrder(ctx: ProviderContext<S>, ref: OrderRef): Promise<BrokerOrder | undefined>
  openOrders(ctx: ProviderContext<S>): Promise<ReadonlyArray<BrokerOrder>>
  positions(ctx: ProviderContext<S>): Promise<ReadonlyArray<Position>>
  balances(ctx: ProviderContext<S>): Promise<ReadonlyArray<Balance>>
  /** Order changes and fills from `since` on, until the host stops it (`ctx.signal`). */
  orderUpdates(ctx: ProviderContext<S>, request: OrderUpdatesRequest): AsyncIterable<BrokerEvent>
}

/** A broker module's default export. */
export interface Broker<S extends SettingsSpec = SettingsSpec> extends BrokerDefinition<S> {
  readonly kind: "broker"
  readonly sdkVersion: 1
}
