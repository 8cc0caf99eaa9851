/**
 * Fills the gap a live series may have after a (re)connect: the closed bars from the one after
 * the last stored bar up to the current bar's open, from the provider's history, written as
 * closed bars before the stream's own bars of that series are trusted. Every fill logs its range
 * and row count, so "why are bars missing for X between t1 and t2" can be answered from the logs.
 */
import type { ProviderError, Timeframe } from "@quasar/domain"
import type { ProviderBar } from "@quasar/providers/sdk"
import { Effect, Stream } from "effect"
import { BarSource } from "../collect/BarSource"
import { type RetryOptions, retryProviderStream } from "../sandbox/providerHost"
import { BarWriter } from "../store/BarWriter"

export interface GapRange {
  readonly provider: string
  readonly symbol: string
  readonly timeframe: Timeframe.Timeframe
  /** Open time of the first missing bar. */
  readonly from: number
  /** Exclusive: the open time of the bar forming when the fill started. */
  readonly to: number
}

const iso = (ms: number) => new Date(ms).toISOString()

/**
 * Writes the provider's closed bars in [from, to) and yields them by open time once committed.
 * Pages are retried by the host's provider policy (the whole request again: writes are idempotent).
 */
export const fillGap = (
  gap: GapRange,
  retry: RetryOptions
): Effect.Effect<ReadonlyMap<number, ProviderBar>, ProviderError, BarSource | BarWriter> =>
  Effect.gen(function* () {
    const source = yield* BarSource
    const writer = yield* BarWriter
    const { provider, symbol, timeframe } = gap
    const written = new Map<number, ProviderBar>()
    yield* source.history(provider, { symbol, timeframe, from: gap.from, to: gap.to }).pipe(
      retryProviderStream(retry),
      Stream.runForEach((chunk) =>
        chunk.bars.length === 0
          ? Effect.void
          : writer
              .write(
                "historical",
                chunk.bars.map((bar) => ({ provider, symbol, timeframe, ...bar }))
              )
              .pipe(
                Effect.tap(() =>
                  Effect.sync(() => {
                    for (const bar of chunk.bars) written.set(bar.ts, bar)
                  })
                ),
                // Refused rows are bad data that no retry fixes; the stream's versions may cover them.
                Effect.catchTag("BarsRejected", (e) =>
                  Effect.logError("gap-fill bars rejected by the database").pipe(
                    Effect.annotateLogs({ error: e.message })
                  )
                )
              )
      )
    )
    yield* Effect.logInfo("gap filled from history").pipe(Effect.annotateLogs({ rows: written.size }))
    return written
  }).pipe(
    Effect.annotateLogs({
      provider: gap.provider,
      symbol: gap.symbol,
      timeframe: gap.timeframe,
      from: iso(gap.from),
      to: iso(gap.to)
    }),
    Effect.withSpan("LiveGapFill", {
      attributes: {
        provider: gap.provider,
        symbol: gap.symbol,
        timeframe: gap.timeframe,
        from: gap.from,
        to: gap.to
      }
    })
  )
