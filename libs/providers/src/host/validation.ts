/**
 * Screens what a provider yields before the host uses it. Nothing unsound gets through: each
 * rejected item is kept with its reason so callers can count and log it. The screens are plain
 * functions (no Effect) because they sit on the hot ingest path.
 */
import { AssetClass, barProblem, MarketSymbol, RawBar, Timeframe } from "@quasar/domain"
import { Either, ParseResult, Schema } from "effect"
import { sameBarValues } from "../sdk/barValues"
import type {
  AssetInfo,
  HistoryRequest,
  LiveEvent,
  LiveRequest,
  ProviderBar,
  Timeframe as SdkTimeframe
} from "../sdk/types"

export interface Rejected<A> {
  readonly reason: string
  readonly item: A
}

const firstIssue = (error: ParseResult.ParseError): string => {
  const [issue] = ParseResult.ArrayFormatter.formatErrorSync(error)
  if (!issue) return error.message
  return issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message
}

// Provider code may be plain JavaScript: a `null` optional field means "absent", not a bug.
const opt = <A, I>(schema: Schema.Schema<A, I>) => Schema.optionalWith(schema, { nullable: true })

export const AssetInfoSchema = Schema.Struct({
  symbol: MarketSymbol,
  name: opt(Schema.String),
  assetClass: opt(AssetClass),
  base: opt(Schema.String),
  quote: opt(Schema.String),
  exchange: opt(Schema.String),
  currency: opt(Schema.String),
  isin: opt(Schema.String),
  status: opt(Schema.Literal("active", "delisted")),
  extra: opt(
    Schema.Record({
      key: Schema.String,
      value: Schema.Union(Schema.String, Schema.Number, Schema.Boolean, Schema.Null)
    })
  )
})

const decodeAsset = Schema.decodeUnknownEither(AssetInfoSchema)

/** Valid assets in order, the first of each symbol; the rest rejected with a reason. */
export const screenAssets = (
  assets: ReadonlyArray<unknown>
): { readonly assets: Array<AssetInfo>; readonly rejected: Array<{ asset: unknown; reason: string }> } => {
  const valid: Array<AssetInfo> = []
  const rejected: Array<{ asset: unknown; reason: string }> = []
  const seen = new Set<string>()
  for (const asset of assets) {
    const decoded = decodeAsset(asset)
    if (Either.isLeft(decoded)) rejected.push({ asset, reason: firstIssue(decoded.left) })
    else if (seen.has(decoded.right.symbol))
      rejected.push({ asset, reason: `duplicate symbol ${decoded.right.symbol}` })
    else {
      seen.add(decoded.right.symbol)
      valid.push(decoded.right)
    }
  }
  return { assets: valid, rejected }
}

/** Numbers of any value, so that `barProblem` can say what is wrong with them (NaN, high < low…). */
const LooseBar = Schema.Struct({
  ts: Schema.Number,
  open: Schema.Number,
  high: Schema.Number,
  low: Schema.Number,
  close: Schema.Number,
  volume: Schema.Number,
  vwap: opt(Schema.Number),
  trades: opt(Schema.Number)
})
const decodeLoose = Schema.decodeUnknownEither(LooseBar)
const decodeRaw = Schema.decodeUnknownEither(RawBar)

const isNumber = (x: unknown): x is number => typeof x === "number"
const absent = (x: unknown): x is null | undefined => x === undefined || x === null

/**
 * The common case without a Schema round trip: a plain object of numbers. History pages hold
 * hundreds of bars each and backfills run to millions, so this path is what ingest speed rides
 * on; anything unusual falls through to the Schema path below for a precise message.
 */
const fastBar = (
  bar: unknown,
  tf: SdkTimeframe,
  nowMs: number,
  reuse = false
): Either.Either<ProviderBar, string> | undefined => {
  if (typeof bar !== "object" || bar === null) return undefined
  const { ts, open, high, low, close, volume, vwap, trades } = bar as Record<string, unknown>
  if (
    !(
      isNumber(ts) &&
      isNumber(open) &&
      isNumber(high) &&
      isNumber(low) &&
      isNumber(close) &&
      isNumber(volume)
    )
  )
    return undefined
  const vwapOk = absent(vwap) || (isNumber(vwap) && Number.isFinite(vwap))
  const tradesOk = absent(trades) || (isNumber(trades) && Number.isInteger(trades) && trades >= 0)
  if (!vwapOk || !tradesOk) return undefined
  // A plain object of plain numbers (what crosses the sandbox channel) is kept as it is: its
  // readers (history and live writes, /live frames) copy the fields they use, so extra ones go
  // nowhere, and a million bars of a backfill or a busy feed are not copied once more.
  if (reuse && vwap !== null && trades !== null && Object.getPrototypeOf(bar) === Object.prototype) {
    const sound = bar as ProviderBar
    const problem = barProblem(sound, tf, nowMs)
    return problem ? Either.left(problem) : Either.right(sound)
  }
  const candidate: { -readonly [K in keyof ProviderBar]: ProviderBar[K] } = {
    ts,
    open,
    high,
    low,
    close,
    volume
  }
  if (!absent(vwap)) candidate.vwap = vwap
  if (!absent(trades)) candidate.trades = trades
  const problem = barProblem(candidate, tf, nowMs)
  return problem ? Either.left(problem) : Either.right(candidate)
}

/** The sound bar, or why it is not: shape, then `barProblem`, then the strict schema. */
export const checkBar = (
  bar: unknown,
  tf: SdkTimeframe,
  nowMs: number,
  reuse = false
): Either.Either<ProviderBar, string> => {
  const fast = fastBar(bar, tf, nowMs, reuse)
  if (fast) return fast
  const loose = decodeLoose(bar)
  if (Either.isLeft(loose)) return Either.left(`not a bar: ${firstIssue(loose.left)}`)
  const problem = barProblem(loose.right, tf, nowMs)
  if (problem) return Either.left(problem)
  return Either.mapLeft(decodeRaw(loose.right), firstIssue)
}

export interface HistoryChunk {
  readonly bars: ReadonlyArray<ProviderBar>
  readonly rejected: ReadonlyArray<{ readonly bar: unknown; readonly reason: string }>
}

/**
 * Screens the pages of one history request in order: sound, closed, inside [from, to) and
 * strictly ascending across pages (so a bar repeated on a page boundary is dropped once).
 */
export const historyScreen = (request: HistoryRequest) => {
  const duration = Timeframe.durationMs(request.timeframe)
  let lastTs = Number.NEGATIVE_INFINITY
  return (bars: ReadonlyArray<unknown>, nowMs: number): HistoryChunk => {
    const kept: Array<ProviderBar> = []
    const rejected: Array<{ bar: unknown; reason: string }> = []
    for (const bar of bars) {
      const checked = checkBar(bar, request.timeframe, nowMs, true)
      if (Either.isLeft(checked)) {
        rejected.push({ bar, reason: checked.left })
        continue
      }
      const { ts } = checked.right
      const reason =
        ts + duration > nowMs
          ? "bar has not closed yet"
          : ts < request.from || ts >= request.to
            ? "outside the requested range"
            : ts === lastTs
              ? "duplicate bar"
              : ts < lastTs
                ? "out of order"
                : undefined
      if (reason) rejected.push({ bar, reason })
      else {
        lastTs = ts
        kept.push(checked.right)
      }
    }
    return { bars: kept, rejected }
  }
}

const LiveEventSchema = Schema.Union(
  Schema.Struct({
    type: Schema.Literal("bar"),
    symbol: Schema.String,
    bar: Schema.Unknown,
    closed: Schema.Boolean
  }),
  Schema.Struct({ type: Schema.Literal("subscribed"), symbol: Schema.String }),
  Schema.Struct({ type: Schema.Literal("rejected"), symbol: Schema.String, reason: Schema.String }),
  Schema.Struct({ type: Schema.Literal("heartbeat") })
)
const decodeEvent = Schema.decodeUnknownEither(LiveEventSchema)
type DecodedEvent = typeof LiveEventSchema.Type

/** `{ type: "bar", symbol, bar, closed }` with fields of the right kinds, read once each. */
const plainBarEvent = (event: unknown): DecodedEvent | undefined => {
  if (typeof event !== "object" || event === null) return undefined
  const { type, symbol, bar, closed } = event as Record<string, unknown>
  return type === "bar" && typeof symbol === "string" && typeof closed === "boolean"
    ? { type, symbol, bar, closed }
    : undefined
}

/**
 * Screens the events of one live connection. A bar may be forming "now" but not open in the
 * future; nothing older than a symbol's last closed bar is passed on after it. The last closed
 * bar may come again with other values: a provider that closes bars on a timer (Kraken sends no
 * closed flag) revises its guess when the exchange's final update arrives late, and that final
 * version must reach the store. The same values again are a duplicate and dropped.
 */
export const liveScreen = (request: LiveRequest) => {
  const symbols = new Set(request.symbols)
  const lastClosed = new Map<string, ProviderBar>()
  return (event: unknown, nowMs: number): Either.Either<LiveEvent, Rejected<unknown>> => {
    // Bar events (nearly all of a feed) are recognised without a Schema decode; anything else,
    // or anything odd, takes the decode, which names what is wrong.
    const e = plainBarEvent(event) ?? Either.getOrUndefined(decodeEvent(event))
    if (e === undefined)
      return Either.left({
        item: event,
        reason: `malformed event: ${Either.match(decodeEvent(event), { onLeft: firstIssue, onRight: () => "unexpected shape" })}`
      })
    if (e.type === "heartbeat") return Either.right(e)
    if (!symbols.has(e.symbol))
      return Either.left({ item: event, reason: `symbol ${e.symbol} was not requested` })
    if (e.type !== "bar") return Either.right(e)
    const checked = checkBar(e.bar, request.timeframe, nowMs, true)
    if (Either.isLeft(checked)) return Either.left({ item: e.bar, reason: checked.left })
    const bar = checked.right
    const last = lastClosed.get(e.symbol)
    const lastTs = last?.ts ?? Number.NEGATIVE_INFINITY
    if (bar.ts < lastTs || (bar.ts === lastTs && !e.closed))
      return Either.left({ item: e.bar, reason: "older than the last closed bar" })
    if (last !== undefined && bar.ts === lastTs && sameBarValues(bar, last))
      return Either.left({ item: e.bar, reason: "duplicate closed bar" })
    if (e.closed) lastClosed.set(e.symbol, bar)
    return Either.right({ type: "bar", symbol: e.symbol, bar, closed: e.closed })
  }
}
