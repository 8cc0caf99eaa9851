/**
 * A backtest's request and result: a strategy version run over stored bars of one provider and
 * timeframe, with a documented fill model. Bulk series (equity, orders, fills) carry times as UTC
 * epoch milliseconds, the bars' own keys; the request's range is ISO 8601 like every other API.
 */
import { Schema } from "effect"
import { ProviderName, Timestamp } from "./Common"
import { Timeframe } from "./Timeframe"

const Finite = Schema.Number.pipe(Schema.finite())
const EpochMillis = Schema.Number.pipe(Schema.int(), Schema.nonNegative()).annotations({
  identifier: "EpochMillis",
  description: "UTC epoch milliseconds"
})
const Basis = Schema.Number.pipe(Schema.between(0, 1_000)).annotations({
  description: "basis points (1 bp = 0.01 %), 0 to 1000"
})
const Float64ArrayFromSelf = Schema.declare((u: unknown): u is Float64Array => u instanceof Float64Array, {
  identifier: "Float64Array"
})

/**
 * A column of numbers: a JSON array on the wire, a Float64Array in memory (a million-bar equity
 * curve is 8 MB there instead of a million boxed array slots, and the engine fills it in place).
 * The wire side is checked in one loop, not element by element through the schema machinery: a
 * million-bar result has three such columns, which per-element schemas took seconds to encode.
 */
const Float64Column = (
  accepts: (x: number) => boolean,
  items: { readonly type: "number" | "integer"; readonly minimum?: number },
  description: string
) => {
  const wire = Schema.declare(
    (u: unknown): u is ReadonlyArray<number> => {
      if (!Array.isArray(u)) return false
      for (const x of u) if (typeof x !== "number" || !accepts(x)) return false
      return true
    },
    { description: `an array of ${description}`, jsonSchema: { type: "array", items } }
  )
  return Schema.transform(wire, Float64ArrayFromSelf, {
    strict: true,
    decode: (xs) => Float64Array.from(xs),
    encode: (xs) => Array.from(xs)
  })
}
const EpochMillisColumn = Float64Column(
  (x) => Number.isSafeInteger(x) && x >= 0,
  { type: "integer", minimum: 0 },
  "UTC epoch milliseconds"
)
const FiniteColumn = Float64Column(Number.isFinite, { type: "number" }, "finite numbers")

const ParamValue = Schema.Union(Finite, Schema.Boolean, Schema.String.pipe(Schema.maxLength(1_000)))

export const StrategyName = Schema.String.pipe(Schema.pattern(/^[a-z][a-z0-9_-]{0,63}$/)).annotations({
  identifier: "StrategyName",
  description: "lower-case letters, digits, '-' or '_', starting with a letter (e.g. sma-cross)"
})

/** The fill model's settings; see the README's "Fill model". */
export const FillSettings = Schema.Struct({
  /** Charged on every fill's notional. */
  feeBps: Schema.optionalWith(Basis, { default: () => 10 }),
  /** Added to a buy's and taken from a sell's price for market and stop fills. */
  slippageBps: Schema.optionalWith(Basis, { default: () => 5 })
}).annotations({ identifier: "FillSettings" })
export type FillSettings = typeof FillSettings.Type

export const BacktestRequest = Schema.Struct({
  strategy: StrategyName,
  /** The code registry's version; the active one when not given. */
  version: Schema.optional(Schema.Int.pipe(Schema.positive())),
  provider: ProviderName,
  /** Trading starts at the first bar at or after `from`; bars before it only warm up. */
  from: Timestamp,
  /** Exclusive. */
  to: Timestamp,
  params: Schema.optionalWith(Schema.Record({ key: Schema.String, value: ParamValue }), {
    default: () => ({})
  }),
  initialCash: Schema.optionalWith(Finite.pipe(Schema.positive()), { default: () => 10_000 }),
  fill: Schema.optionalWith(FillSettings, { default: () => FillSettings.make({}) })
}).annotations({ identifier: "BacktestRequest" })
export type BacktestRequest = typeof BacktestRequest.Type

/** Everything that determines a result: the same inputs always give the same result. */
export const BacktestInputs = Schema.Struct({
  strategy: StrategyName,
  strategyVersion: Schema.String,
  codeSha256: Schema.String.pipe(Schema.pattern(/^[0-9a-f]{64}$/)),
  params: Schema.Record({ key: Schema.String, value: ParamValue }),
  provider: ProviderName,
  timeframe: Timeframe,
  universe: Schema.Array(Schema.String),
  from: EpochMillis,
  to: EpochMillis,
  initialCash: Finite,
  fill: Schema.Struct({ feeBps: Basis, slippageBps: Basis })
}).annotations({ identifier: "BacktestInputs" })
export type BacktestInputs = typeof BacktestInputs.Type

export const BacktestOrder = Schema.Struct({
  id: Schema.Int,
  symbol: Schema.String,
  side: Schema.Literal("buy", "sell"),
  type: Schema.Literal("market", "limit", "stop"),
  quantity: Schema.optional(Schema.Number),
  notional: Schema.optional(Schema.Number),
  limitPrice: Schema.optional(Schema.Number),
  stopPrice: Schema.optional(Schema.Number),
  placedAt: EpochMillis,
  status: Schema.Literal("open", "filled", "cancelled", "rejected", "expired"),
  reason: Schema.optional(Schema.String)
}).annotations({ identifier: "BacktestOrder" })
export type BacktestOrder = typeof BacktestOrder.Type

export const BacktestFill = Schema.Struct({
  orderId: Schema.Int,
  symbol: Schema.String,
  side: Schema.Literal("buy", "sell"),
  /** Open time of the bar it filled in. */
  ts: EpochMillis,
  quantity: Finite,
  price: Finite,
  fee: Finite
}).annotations({ identifier: "BacktestFill" })
export type BacktestFill = typeof BacktestFill.Type

const NullableNumber = Schema.NullOr(Finite)

/** Statistics of an equity curve; see the README's "Statistics". Null when undefined (e.g. no variance). */
export const ReturnStatistics = Schema.Struct({
  totalReturn: Finite,
  cagr: NullableNumber,
  volatility: NullableNumber,
  sharpe: NullableNumber,
  sortino: NullableNumber,
  maxDrawdown: Finite,
  maxDrawdownBars: Schema.Int,
  maxDrawdownMs: Schema.Number
}).annotations({ identifier: "ReturnStatistics" })
export type ReturnStatistics = typeof ReturnStatistics.Type

export const BacktestStatistics = Schema.Struct({
  ...ReturnStatistics.fields,
  winRate: NullableNumber,
  profitFactor: NullableNumber,
  exposure: Finite,
  trades: Schema.Int
}).annotations({ identifier: "BacktestStatistics" })
export type BacktestStatistics = typeof BacktestStatistics.Type

export const BacktestStatus = Schema.Literal("completed", "failed", "cancelled")
export type BacktestStatus = typeof BacktestStatus.Type

export const BacktestResult = Schema.Struct({
  status: BacktestStatus,
  inputs: BacktestInputs,
  /** Why a failed run stopped: the strategy's error and the bar it was handling. */
  failure: Schema.optional(Schema.Struct({ barIndex: Schema.Int, ts: EpochMillis, message: Schema.String })),
  progress: Schema.Struct({ done: Schema.Int, total: Schema.Int }),
  orders: Schema.Array(BacktestOrder),
  fills: Schema.Array(BacktestFill),
  /** One point per traded bar time, at its close: the strategy's and the buy-and-hold benchmark's equity. */
  equity: Schema.Struct({
    ts: EpochMillisColumn,
    equity: FiniteColumn,
    benchmark: FiniteColumn
  }),
  statistics: BacktestStatistics,
  benchmark: ReturnStatistics,
  logs: Schema.Array(Schema.Struct({ ts: EpochMillis, message: Schema.String })),
  logsDropped: Schema.Int
}).annotations({ identifier: "BacktestResult" })
export type BacktestResult = typeof BacktestResult.Type
