/** A `BarsFeed` over columns held in memory, keyed `provider:symbol:timeframe`, for tests. */
import { encodeBarColumns } from "@quasar/domain"
import { Effect, Layer, Option, Stream } from "effect"
import { BarsFeed, type BarsRange } from "../bars/BarsFeed"
import type { BarColumns } from "../engine/types"

export const seriesKey = (provider: string, symbol: string, timeframe: string) =>
  `${provider}:${symbol}:${timeframe}`

const slice = (columns: BarColumns, from: number, to: number): BarColumns => {
  let start = 0
  while (start < columns.ts.length && columns.ts[start]! < from) start++
  let end = start
  while (end < columns.ts.length && columns.ts[end]! < to) end++
  return {
    ts: columns.ts.slice(start, end),
    open: columns.open.slice(start, end),
    high: columns.high.slice(start, end),
    low: columns.low.slice(start, end),
    close: columns.close.slice(start, end),
    volume: columns.volume.slice(start, end)
  }
}

const EMPTY = slice(
  {
    ts: new Float64Array(0),
    open: new Float64Array(0),
    high: new Float64Array(0),
    low: new Float64Array(0),
    close: new Float64Array(0),
    volume: new Float64Array(0)
  },
  0,
  0
)

/** An answer's bytes cut into chunks of about this many, as a socket would bring them. */
const CHUNK_BYTES = 4_096

export const layer = (series: ReadonlyMap<string, BarColumns>) => {
  const barsOf = (range: BarsRange) => {
    const columns = series.get(seriesKey(range.provider, range.symbol, range.timeframe))
    return columns === undefined ? EMPTY : slice(columns, range.from, range.to)
  }
  return Layer.succeed(BarsFeed, {
    load: (range) => {
      const bars = barsOf(range)
      return Effect.succeed(bars.ts.length === 0 ? [] : [bars])
    },
    stream: (range) => {
      const bytes = encodeBarColumns(barsOf(range))
      return Stream.fromIterable(
        Array.from({ length: Math.ceil(bytes.length / CHUNK_BYTES) }, (_, i) =>
          bytes.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES)
        )
      )
    },
    first: (range) => {
      const bars = barsOf(range)
      return Effect.succeed(bars.ts.length === 0 ? Option.none() : Option.some(bars.ts[0]!))
    }
  })
}
