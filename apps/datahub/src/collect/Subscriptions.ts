/**
 * What the subscriptions API does: checks a request against the provider (timeframes) and the
 * Registry's mappings (common symbols, through the RegistryCatalog), writes through SubscriptionRepo, and makes every change take
 * effect at once — in this DataHub through the Scheduler, in the others through the ChangeFeed.
 */
import type { SqlError } from "@effect/sql"
import {
  type CreateSubscription,
  InvalidRequest,
  NotFound,
  ProviderName,
  Subscription,
  SubscriptionId,
  Timeframe
} from "@quasar/domain"
import { ChangeFeed } from "@quasar/server"
import { Clock, Context, DateTime, Effect, Layer, Option } from "effect"
import { RegistryCatalog } from "../catalog/RegistryCatalog"
import { BarSink } from "./BarSink"
import { BarSource } from "./BarSource"
import { GapRepo } from "./GapRepo"
import * as Plan from "./Plan"
import { Scheduler, SUBSCRIPTIONS_CHANNEL } from "./Scheduler"
import { type SubscriptionRecord, SubscriptionRepo } from "./SubscriptionRepo"

/** Coverage gaps listed at most (a series with more holes needs a closer look than a list). */
const MAX_GAPS = 1_000

const time = (ms: number) => DateTime.unsafeMake(ms)
const timeOrNull = (ms: number | null) => (ms === null ? null : time(ms))

export const toSubscription = (r: SubscriptionRecord): Subscription =>
  Subscription.make({
    id: SubscriptionId.make(r.id),
    provider: ProviderName.make(r.provider),
    symbol: r.symbol,
    timeframe: r.timeframe,
    mode: r.mode,
    backfillFrom: timeOrNull(r.backfillFrom),
    state: {
      status: r.status,
      lastBarAt: timeOrNull(r.lastBarAt),
      nextRunAt: timeOrNull(r.nextRunAt),
      lastError: r.lastError,
      backfillProgress: r.backfillProgress
    },
    runner: r.runner,
    createdAt: time(r.createdAt)
  })

const noSubscription = (id: number) =>
  new NotFound({
    message: `there is no subscription ${id}: it may have been deleted; list the subscriptions to find the one you mean`
  })

const make = Effect.gen(function* () {
  const repo = yield* SubscriptionRepo
  const gaps = yield* GapRepo
  const scheduler = yield* Scheduler
  const sink = yield* BarSink
  const feed = yield* ChangeFeed.ChangeFeed
  const catalog = yield* RegistryCatalog

  /** Here at once; in other DataHubs within a ChangeFeed poll. */
  const changed = (id: number) =>
    Effect.zipRight(feed.publish(SUBSCRIPTIONS_CHANNEL, { id }), scheduler.refresh(id))

  const found =
    <A>(id: number) =>
    (row: Option.Option<A>) =>
      Option.match(row, { onNone: () => Effect.fail(noSubscription(id)), onSome: Effect.succeed })

  const symbolOf = (input: CreateSubscription) =>
    Effect.gen(function* () {
      if (input.symbol !== undefined && input.commonSymbol !== undefined)
        return yield* new InvalidRequest({
          message: "give either symbol (the provider's own) or commonSymbol, not both",
          field: "commonSymbol"
        })
      if (input.symbol !== undefined) return input.symbol
      if (input.commonSymbol === undefined)
        return yield* new InvalidRequest({
          message:
            "give symbol (the provider's own, e.g. XBT/USD) or commonSymbol (resolved through the mappings)",
          field: "symbol"
        })
      const [mapped] = yield* catalog.mapped(input.commonSymbol, input.provider)
      return yield* Option.match(Option.fromNullable(mapped?.symbol), {
        onSome: Effect.succeed,
        onNone: () =>
          Effect.fail(
            new NotFound({
              message: `common symbol ${input.commonSymbol} is not mapped to a ${input.provider} symbol: add the mapping in the Registry's mappings, or subscribe by the provider's own symbol`
            })
          )
      })
    })

  const create = (input: CreateSubscription) =>
    Effect.gen(function* () {
      const source = yield* BarSource
      const provider = yield* source.describe(input.provider)
      const unsupported = input.timeframes.filter((tf) => !provider.timeframes.includes(tf))
      if (unsupported.length > 0)
        return yield* new InvalidRequest({
          message: `${input.provider} has no ${unsupported.join(", ")} bars: it serves ${provider.timeframes.join(", ")}`,
          field: "timeframes"
        })
      const symbol = yield* symbolOf(input)
      const now = yield* Clock.currentTimeMillis
      const from = input.backfillFrom === undefined ? undefined : DateTime.toEpochMillis(input.backfillFrom)
      if (from !== undefined && from >= now)
        return yield* new InvalidRequest({
          message: "backfillFrom must be in the past",
          field: "backfillFrom"
        })
      const { all, changed: touched } = yield* repo.create({
        provider: input.provider,
        symbol,
        timeframes: [...new Set(input.timeframes)],
        mode: input.mode,
        backfillFrom: (tf) =>
          from === undefined ? Plan.defaultBackfillFrom(tf, now) : Timeframe.barOpen(tf, from)
      })
      // New rows and rows whose mode changed take effect at once.
      yield* Effect.forEach(touched, changed, { discard: true })
      return all.map(toSubscription)
    }).pipe(
      Effect.catchTag("ServiceUnavailable", (e) => Effect.die(e)),
      Effect.withSpan("Subscriptions.create", { attributes: { provider: input.provider } })
    )

  const get = (id: number) => repo.get(id).pipe(Effect.flatMap(found(id)))

  const setState = (
    id: number,
    update: (id: number) => Effect.Effect<Option.Option<SubscriptionRecord>, SqlError.SqlError>
  ) =>
    update(id).pipe(
      Effect.flatMap(found(id)),
      Effect.tap(() => changed(id)),
      Effect.map(toSubscription)
    )

  /**
   * Deletes with collection stopped here and kept stopped until the row is gone, and, for a
   * purge, once the rows its loop queued are committed: no page lands after a purge.
   */
  const remove = (id: number, purge: boolean) =>
    Effect.gen(function* () {
      const removed = yield* scheduler.whileStopped(
        id,
        Effect.zipRight(purge ? sink.flush : Effect.void, repo.remove(id, purge))
      )
      if (!removed) return yield* noSubscription(id)
      yield* changed(id)
    })

  const coverage = (id: number) =>
    Effect.gen(function* () {
      const sub = yield* get(id)
      const continuous = yield* catalog.isContinuous(sub.provider, sub.symbol)
      // Measured against what should be stored: from backfillFrom for history, from the first
      // stored bar for a live-only series. Empty ranges the provider confirmed are not gaps,
      // except in a market that trades around the clock, where an empty minute is suspect.
      const stored = yield* gaps.coverage(
        sub,
        continuous ? { _tag: "None" } : { _tag: "All" },
        MAX_GAPS,
        sub.mode === "live" ? {} : { from: Plan.expectedFrom(sub), to: sub.collectedUntil ?? undefined }
      )
      const d = Timeframe.durationMs(sub.timeframe)
      return {
        subscription: SubscriptionId.make(id),
        first: timeOrNull(stored.first),
        last: timeOrNull(stored.last),
        count: stored.count,
        gaps: stored.holes.map((h) => ({
          from: time(h.from),
          to: time(h.to),
          missing: Math.round((h.to - h.from) / d)
        }))
      }
    })

  /**
   * A series streamed live for another service: created `live` when missing, `both` when only
   * its history is collected (that collection goes on), left as it is when it streams already.
   */
  const ensureLive = (demand: {
    readonly provider: string
    readonly symbol: string
    readonly timeframe: Timeframe.Timeframe
  }) =>
    Effect.gen(function* () {
      const existing = (yield* repo.list({ provider: demand.provider })).find(
        (r) => r.symbol === demand.symbol && r.timeframe === demand.timeframe
      )
      if (existing !== undefined && existing.mode !== "history") return toSubscription(existing)
      const mode = existing === undefined ? "live" : "both"
      const [created] = yield* create({
        provider: ProviderName.make(demand.provider),
        symbol: demand.symbol,
        timeframes: [demand.timeframe],
        mode
      })
      if (created === undefined) return yield* Effect.die("a subscription upsert returned no row")
      yield* Effect.logInfo("subscription made live for another service").pipe(
        Effect.annotateLogs({
          provider: demand.provider,
          symbol: demand.symbol,
          timeframe: demand.timeframe,
          mode
        })
      )
      return created
    }).pipe(Effect.withSpan("Subscriptions.ensureLive", { attributes: { provider: demand.provider } }))

  return {
    create,
    ensureLive,
    list: (filter: { readonly provider?: string | undefined; readonly status?: string | undefined }) =>
      Effect.map(repo.list(filter), (rows) => rows.map(toSubscription)),
    get: (id: number) => Effect.map(get(id), toSubscription),
    pause: (id: number) => setState(id, repo.pause),
    resume: (id: number) => setState(id, repo.resume),
    remove,
    coverage
  }
})

export class Subscriptions extends Context.Tag("@quasar/datahub/collect/Subscriptions")<
  Subscriptions,
  Effect.Effect.Success<typeof make>
>() {
  static readonly layer = Layer.effect(Subscriptions, make)
}
