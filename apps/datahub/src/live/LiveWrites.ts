/**
 * A connection's writes: events only queue rows here (never waiting), and one fiber hands what
 * gathered to the BarWriter, waits for the commit, then publishes those bars to `/live` clients
 * and records `last_bar_at`. While a write is in the database the next batch gathers, so batches
 * grow with the load; forming bars are coalesced per series (only the newest matters), closed
 * bars are all kept, in order.
 *
 * Ordering: a series' closed bars reach the writer in the order they closed, and the writer keeps
 * one series' writes in order, so whatever history writes later for the same bar wins. For
 * subscriptions whose history is collected too (`both`), a closed bar that the scheduler has
 * already collected (before `collected_until`) is not written again from the stream: when the
 * stream closes a bar late (Kraken's grace period after a quiet minute) history got there first.
 */
import type { Timeframe } from "@quasar/domain"
import { Effect, Queue } from "effect"
import type { ProviderBar } from "../../../../libs/providers/src/sdk/types"
import { type BarRow, type BarTarget, BarWriter } from "../store/BarWriter"
import { LiveHub, type LiveUpdate, seriesKey } from "./LiveHub"
import { LiveRepo } from "./LiveRepo"
import type { SeriesState } from "./SeriesState"

interface Item {
  readonly state: SeriesState
  readonly bar: ProviderBar
}

export interface LiveWrites {
  /** The newest forming bar of a series (replaces one not yet written). */
  readonly forming: (state: SeriesState, bar: ProviderBar) => void
  /** Closed bars of a trusted series, oldest first. */
  readonly closed: (state: SeriesState, bars: ReadonlyArray<ProviderBar>) => void
  /** The series' stream is trusted now (a live-only subscription becomes `current`). */
  readonly streaming: (state: SeriesState) => void
  /** Writes what gathered, batch after batch, forever. */
  readonly run: Effect.Effect<never>
  /** Writes what gathered so far once (at shutdown). */
  readonly flush: Effect.Effect<void>
}

export const makeLiveWrites = (provider: string, timeframe: Timeframe.Timeframe) =>
  Effect.gen(function* () {
    const writer = yield* BarWriter
    const hub = yield* LiveHub
    const repo = yield* LiveRepo
    const tf = timeframe
    const wake = yield* Queue.sliding<void>(1)
    let forming = new Map<string, Item>()
    let closed: Array<Item> = []
    let trusted = new Set<number>()
    const signal = () => {
      Queue.unsafeOffer(wake, undefined)
    }

    const row = ({ state, bar }: Item): BarRow => ({ provider, symbol: state.symbol, timeframe: tf, ...bar })
    const update = ({ state, bar }: Item, isClosed: boolean): LiveUpdate => ({
      key: seriesKey({ provider, symbol: state.symbol, timeframe: tf }),
      provider,
      symbol: state.symbol,
      timeframe: tf,
      bar,
      closed: isClosed
    })

    const write = (target: BarTarget, items: ReadonlyArray<Item>) =>
      items.length === 0
        ? Effect.void
        : writer
            .write(target, items.map(row))
            .pipe(
              Effect.catchTag("BarsRejected", (e) =>
                Effect.logError("live bars rejected by the database; they are not stored").pipe(
                  Effect.annotateLogs({ target, rows: items.length, error: e.message })
                )
              )
            )

    /** Drops closed bars the history collection already stored (its version is final). */
    const notCollected = (items: ReadonlyArray<Item>) =>
      Effect.gen(function* () {
        const ids = [...new Set(items.filter((i) => i.state.mode === "both").map((i) => i.state.id))]
        if (ids.length === 0) return items
        const until = yield* repo.collectedUntil(ids).pipe(
          // Not knowing costs at most one overwrite by the stream's version; not writing would lose bars.
          Effect.catchAll(() => Effect.succeed(new Map<number, number>()))
        )
        const kept = items.filter((i) => i.state.mode !== "both" || i.bar.ts >= (until.get(i.state.id) ?? 0))
        if (kept.length < items.length)
          yield* Effect.logDebug("closed bars already collected from history; stream versions skipped").pipe(
            Effect.annotateLogs({ skipped: items.length - kept.length })
          )
        return kept
      })

    const bookkeeping = (written: ReadonlyArray<Item>, nowTrusted: ReadonlySet<number>) =>
      Effect.gen(function* () {
        const latest = new Map<number, number>()
        for (const { state, bar } of written)
          latest.set(state.id, Math.max(latest.get(state.id) ?? 0, bar.ts))
        if (latest.size > 0) yield* repo.recordLastBars(latest)
        if (nowTrusted.size > 0) yield* repo.markStreaming([...nowTrusted])
      }).pipe(
        Effect.catchAll((e) =>
          Effect.logWarning("could not record live progress; the next batch will").pipe(
            Effect.annotateLogs({ error: e.message })
          )
        )
      )

    const flushOnce = Effect.gen(function* () {
      const batch = { forming: [...forming.values()], closed, trusted }
      forming = new Map()
      closed = []
      trusted = new Set()
      if (batch.forming.length === 0 && batch.closed.length === 0 && batch.trusted.size === 0) return
      const kept = yield* notCollected(batch.closed)
      yield* Effect.all([write("historical", kept), write("live", batch.forming)], {
        concurrency: "unbounded",
        discard: true
      })
      // Closed first: a client sees a bar close before the next one forms.
      yield* hub.publish([...kept.map((i) => update(i, true)), ...batch.forming.map((i) => update(i, false))])
      yield* bookkeeping(kept, batch.trusted)
    }).pipe(
      Effect.withSpan("LiveWrites.flush", { attributes: { provider, timeframe } }),
      // Only a defect gets here; the batch is logged as lost rather than ending the loop.
      Effect.catchAllCause((cause) => Effect.logError("live batch failed unexpectedly", cause))
    )

    return {
      forming: (state, bar) => {
        forming.set(state.symbol, { state, bar })
        signal()
      },
      closed: (state, bars) => {
        for (const bar of bars) closed.push({ state, bar })
        if (bars.length > 0) signal()
      },
      streaming: (state) => {
        trusted.add(state.id)
        signal()
      },
      run: Effect.forever(Effect.zipRight(Queue.take(wake), flushOnce)),
      flush: flushOnce
    } satisfies LiveWrites
  })
