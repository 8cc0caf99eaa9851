/**
 * The provider contract. Third-party authors write plain TypeScript or JavaScript against these
 * types and never need Effect: the host wraps every call (timeouts, retries by error class,
 * rate limits, spans, Schema validation of every bar). A provider never touches the database.
 *
 * Times are UTC epoch milliseconds; a bar is keyed by its **open** time.
 */

export type Timeframe = "1m" | "5m" | "15m" | "30m" | "1h" | "4h" | "1d" | "1w"

/**
 * One setting a provider accepts. Secrets are encrypted at rest and never shown back. A number
 * setting may bound its values with `min` and `max` (inclusive): the Registry refuses to save a
 * value outside them and the settings form shows them.
 */
export interface SettingSpec {
  readonly type: "string" | "number" | "boolean" | "url"
  readonly label?: string
  readonly description?: string
  readonly secret?: boolean
  readonly required?: boolean
  readonly default?: string | number | boolean
  readonly min?: number
  readonly max?: number
}

export type SettingsSpec = Readonly<Record<string, SettingSpec>>

/** The values a provider receives for its settings spec. */
export type SettingsValues<S extends SettingsSpec> = {
  readonly [K in keyof S]: S[K]["type"] extends "number"
    ? number
    : S[K]["type"] extends "boolean"
      ? boolean
      : string
}

export interface ProviderBar {
  /** Bar open time, UTC epoch milliseconds, aligned to the timeframe. */
  readonly ts: number
  readonly open: number
  readonly high: number
  readonly low: number
  readonly close: number
  /** In base units (shares, coins). */
  readonly volume: number
  readonly vwap?: number
  readonly trades?: number
}

export type AssetClass =
  | "crypto"
  | "equity"
  | "etf"
  | "fund"
  | "fx"
  | "index"
  | "bond"
  | "commodity"
  | "other"

export interface AssetInfo {
  /** The provider's own symbol, exactly as its API takes it (`BTC/USD`, `AAPL.US`). */
  readonly symbol: string
  readonly name?: string
  readonly assetClass?: AssetClass
  /** Canonical base and quote for pairs (`BTC`, `USD`), used to suggest mappings. */
  readonly base?: string
  readonly quote?: string
  readonly exchange?: string
  readonly currency?: string
  readonly isin?: string
  readonly status?: "active" | "delisted"
  /** Anything else the provider wants to keep (e.g. Kraken's REST pair name). */
  readonly extra?: Readonly<Record<string, string | number | boolean | null>>
}

/** Closed bars in [from, to). */
export interface HistoryRequest {
  readonly symbol: string
  readonly timeframe: Timeframe
  readonly from: number
  readonly to: number
}

/**
 * One page of history, ascending by `ts`, every bar closed (final). A provider splits a range
 * into the chunks its API allows and yields a page per chunk.
 */
export interface HistoryPage {
  readonly bars: ReadonlyArray<ProviderBar>
}

export interface LiveRequest {
  readonly symbols: ReadonlyArray<string>
  readonly timeframe: Timeframe
}

/**
 * What a live iterable yields. One iterable is one connection's life: when the connection ends
 * the provider throws (RetryableError to be reconnected) and the host reconnects, resubscribes
 * and fills the gap from `history`.
 */
export type LiveEvent =
  /** A forming (`closed: false`) or final (`closed: true`) bar. */
  | { readonly type: "bar"; readonly symbol: string; readonly bar: ProviderBar; readonly closed: boolean }
  /** The subscription for `symbol` is live (after the provider's acknowledgement). */
  | { readonly type: "subscribed"; readonly symbol: string }
  /** The provider refused `symbol`; the other symbols go on. */
  | { readonly type: "rejected"; readonly symbol: string; readonly reason: string }
  /** The connection is alive (heartbeat/pong); lets the host detect a stale stream. */
  | { readonly type: "heartbeat" }

/** A text WebSocket opened through `ctx.connect`. */
export interface SocketConnection {
  send(data: string): void
  /** Messages as they arrive; ends when the socket closes (then `closeCode` is set). */
  readonly messages: AsyncIterable<string>
  close(code?: number, reason?: string): void
  readonly closeCode: number | undefined
}

export interface Logger {
  debug(message: string, fields?: Readonly<Record<string, unknown>>): void
  info(message: string, fields?: Readonly<Record<string, unknown>>): void
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void
  error(message: string, fields?: Readonly<Record<string, unknown>>): void
}

/** Everything a provider call receives from the host. */
export interface ProviderContext<S extends SettingsSpec = SettingsSpec> {
  /** Settings with defaults applied and secrets decrypted. */
  readonly settings: SettingsValues<S>
  /** `fetch`, rate-limited per provider across all its subscriptions, aborted with `signal`. */
  readonly fetch: (input: string | URL, init?: RequestInit) => Promise<Response>
  /** Opens a WebSocket (text frames). */
  readonly connect: (url: string) => Promise<SocketConnection>
  readonly log: Logger
  /** Aborted when the host cancels the call (timeout, shutdown, unsubscribe). */
  readonly signal: AbortSignal
  /** The current time (epoch ms); the host may control it in tests. */
  readonly now: () => number
}

export interface ProviderDefinition<S extends SettingsSpec = SettingsSpec> {
  /** Lower-case slug, unique in the registry (`kraken`). */
  readonly name: string
  readonly displayName: string
  /** The author's version label; the registry numbers uploads on its own. */
  readonly version: string
  readonly timeframes: ReadonlyArray<Timeframe>
  readonly settings: S
  /** Requests per second this provider's API tolerates, shared by all its subscriptions. */
  readonly rateLimit?: { readonly requestsPerSecond: number; readonly burst?: number }
  /** Delay after a bar closes before the provider has it (e.g. EODHD's end-of-day lag), ms. */
  readonly publishDelayMs?: number
  listAssets(ctx: ProviderContext<S>): Promise<ReadonlyArray<AssetInfo>>
  history(ctx: ProviderContext<S>, request: HistoryRequest): AsyncIterable<HistoryPage>
  live?(ctx: ProviderContext<S>, request: LiveRequest): AsyncIterable<LiveEvent>
}

/** A provider module's default export. */
export interface Provider<S extends SettingsSpec = SettingsSpec> extends ProviderDefinition<S> {
  readonly kind: "provider"
  readonly sdkVersion: 1
}
