/**
 * Where a backtest's bars come from: one series of DataHub's stored bars as columns, loaded whole
 * or streamed as they arrive. Trader never reads DataHub's tables; a layer of this Tag asks
 * DataHub over HTTP.
 */
import type {
  BarColumnBlocks,
  InvalidRequest,
  ProviderName,
  ServiceUnavailable,
  Timeframe
} from "@quasar/domain"
import { makeBarColumnsDecoder } from "@quasar/domain"
import { Context, Effect, type Either, type Option, Stream } from "effect"

export interface BarsRange {
  readonly provider: ProviderName
  /** The provider's own symbol. */
  readonly symbol: string
  readonly timeframe: Timeframe.Timeframe
  /** Open times from `from` (inclusive) to `to` (exclusive), UTC epoch milliseconds. */
  readonly from: number
  readonly to: number
}

export class BarsFeed extends Context.Tag("@quasar/trader/BarsFeed")<
  BarsFeed,
  {
    /**
     * Every stored bar of the range, ascending by open time, in the blocks it arrived in (no bars: none).
     * InvalidRequest: DataHub refused the query; ServiceUnavailable: DataHub cannot be reached.
     */
    readonly load: (range: BarsRange) => Effect.Effect<BarColumnBlocks, InvalidRequest | ServiceUnavailable>
    /**
     * Every stored bar of the range as DataHub's answer brings it, in the `GET /bars/columns`
     * format (header, blocks, end block), read when the stream runs; it fails rather than end an
     * answer that is not whole. No bars: an answer of none.
     */
    readonly stream: (range: BarsRange) => Stream.Stream<Uint8Array, InvalidRequest | ServiceUnavailable>
    /** Open time of the first stored bar of the range; none when the range holds no bar. */
    readonly first: (
      range: BarsRange
    ) => Effect.Effect<Option.Option<number>, InvalidRequest | ServiceUnavailable>
  }
>() {}

/** The blocks of an answer in the `GET /bars/columns` format as it streams, or what is wrong with it. */
export const readBlocks = <E>(
  bytes: Stream.Stream<Uint8Array, E>
): Effect.Effect<Either.Either<BarColumnBlocks, string>, E> =>
  Effect.suspend(() => {
    const decoder = makeBarColumnsDecoder()
    return Effect.map(
      Stream.runForEach(bytes, (chunk) => Effect.sync(() => decoder.push(chunk))),
      () => decoder.end()
    )
  })
