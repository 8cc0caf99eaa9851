/**
 * The strategy contract. Authors write plain TypeScript against these types and never need
 * Effect: the engine calls `onBar` in time order and the context does the bookkeeping (orders,
 * fills, cash, positions, a rolling window of bars and indicators). A strategy never touches the
 * database or the network.
 *
 * Times are UTC epoch milliseconds; a bar is keyed by its **open** time and reaches `onBar`
 * once it is closed.
 */
import type { OrderSide, OrderType } from "./broker"
import type { Timeframe } from "./types"

/** One parameter a strategy accepts, described so that a UI can render a form field for it. */
export type ParamSpec =
  | {
      readonly type: "number" | "integer"
      readonly default: number
      /** Inclusive bounds. */
      readonly min?: number
      readonly max?: number
      readonly label?: string
      readonly description?: string
    }
  | {
      readonly type: "boolean"
      readonly default: boolean
      readonly label?: string
      readonly description?: string
    }
  | {
      readonly type: "string"
      readonly default: string
      readonly maxLength?: number
      readonly label?: string
      readonly description?: string
    }
  | {
      readonly type: "enum"
      readonly values: ReadonlyArray<string>
      readonly default: string
      readonly label?: string
      readonly description?: string
    }

export type ParamsSpec = Readonly<Record<string, ParamSpec>>

/** The values `ctx.params` holds for a params spec: every key present (defaults filled in). */
export type ParamValues<P extends ParamsSpec> = {
  readonly [K in keyof P]: P[K] extends { readonly type: "number" | "integer" }
    ? number
    : P[K] extends { readonly type: "boolean" }
      ? boolean
      : P[K] extends { readonly type: "enum"; readonly values: ReadonlyArray<infer V> }
        ? V
        : string
}

/**
 * A member of the universe: a common symbol (`"BTC/USD"`, resolved through the mappings to the
 * run's provider) or an explicit provider/symbol pair. The strategy names it by its key: the
 * symbol itself, or `provider:symbol` for a pair (see `universeKey`).
 */
export type UniverseMember = string | { readonly provider: string; readonly symbol: string }

export interface Universe {
  readonly timeframe: Timeframe
  readonly symbols: ReadonlyArray<UniverseMember>
}

/** How the strategy names a universe member in `ctx` calls and in `Bar.symbol`. */
export const universeKey = (member: UniverseMember): string =>
  typeof member === "string" ? member : `${member.provider}:${member.symbol}`

/** One closed bar of one universe member. */
export interface Bar {
  readonly symbol: string
  readonly ts: number
  readonly open: number
  readonly high: number
  readonly low: number
  readonly close: number
  readonly volume: number
}

/**
 * The last bars of one symbol as columns, oldest first: index `length - 1` is the current bar.
 * The arrays are views valid during the `onBar` call that obtained them; copy what must outlive it.
 */
export interface BarWindow {
  readonly length: number
  readonly ts: Float64Array
  readonly open: Float64Array
  readonly high: Float64Array
  readonly low: Float64Array
  readonly close: Float64Array
  readonly volume: Float64Array
}

/** Exactly one of `quantity` (units) or `notional` (cash; for a buy, fees included) is given. */
export interface StrategyOrderInput {
  readonly symbol: string
  readonly side: OrderSide
  readonly quantity?: number
  readonly notional?: number
  readonly type: OrderType
  readonly limitPrice?: number
  readonly stopPrice?: number
}

export type StrategyOrderStatus = "open" | "filled" | "cancelled" | "rejected" | "expired"

export interface StrategyOrder extends StrategyOrderInput {
  readonly id: number
  /** Open time of the bar during which the strategy placed it. */
  readonly placedAt: number
  readonly status: StrategyOrderStatus
  /** Why it was rejected, cancelled or expired. */
  readonly reason?: string
}

export interface StrategyPosition {
  /** Units held; 0 when flat (the engine models long positions only). */
  readonly quantity: number
  /** Average entry price of the units held, fees excluded; 0 when flat. */
  readonly averagePrice: number
}

export interface Bands {
  readonly lower: number
  readonly middle: number
  readonly upper: number
}

/**
 * What `onBar` can see and do. Indicators are computed on closes (ATR on high/low/close) and are
 * `undefined` until enough bars have been seen. An indicator is computed over the window the
 * first time it is asked for and then updated every bar, so ask for it every bar for values that
 * do not depend on when it was first used.
 */
export interface StrategyContext<P extends ParamsSpec = ParamsSpec> {
  readonly params: ParamValues<P>
  /** Open time of the current bars. */
  readonly time: number
  readonly cash: number
  /** Cash plus every position at its last close. */
  readonly equity: number
  readonly openOrders: ReadonlyArray<StrategyOrder>
  /** Places an order and returns its id; an invalid order is recorded as rejected, with the reason. */
  order(order: StrategyOrderInput): number
  /** Cancels an open order; false when it is not open (filled, rejected, unknown). */
  cancel(id: number): boolean
  position(symbol: string): StrategyPosition
  window(symbol: string): BarWindow
  sma(symbol: string, period: number): number | undefined
  ema(symbol: string, period: number): number | undefined
  rsi(symbol: string, period?: number): number | undefined
  atr(symbol: string, period?: number): number | undefined
  bollinger(symbol: string, period?: number, deviations?: number): Bands | undefined
  /** Records a line in the run's log, stamped with the current bar's time. */
  log(message: string): void
}

export interface StrategyDefinition<P extends ParamsSpec> {
  /** Lower-case slug, as in the code registry. */
  readonly name: string
  readonly version: string
  readonly description?: string
  readonly params: P
  readonly universe: Universe
  /** Bars each symbol needs before the strategy can act; fetched before the run's start. */
  readonly warmup: number
  /** Bars kept per symbol in `ctx.window` (at least `warmup`); 200 when not given. */
  readonly window?: number
  /** Called once per timestamp with that timestamp's bars, one per symbol that has one. */
  onBar(ctx: StrategyContext<P>, bars: ReadonlyArray<Bar>): void
}

export interface Strategy<P extends ParamsSpec = ParamsSpec> extends StrategyDefinition<P> {
  readonly kind: "strategy"
  readonly sdkVersion: 1
}

/** Declares a strategy; the module's default export must be the result. */
export const defineStrategy = <const P extends ParamsSpec>(
  definition: StrategyDefinition<P>
): Strategy<P> => ({
  ...definition,
  kind: "strategy",
  sdkVersion: 1
})
